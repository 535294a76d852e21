#pragma once
// Whole-file reads and crash-safe writes for model files and registry artifacts. Stateless;
// safe from any thread (two writers of one path race, and the last rename wins whole).
#include <string>
#include <string_view>

#include "sluice/core/status.h"

namespace sluice::models {

core::Result<std::string> ReadWholeFile(const std::string& path);

// Writes `bytes` to a unique temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the folder, so after a crash `path` holds either its old bytes or all of the new ones.
core::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// mkdir -p; existing folders are fine.
core::Status MakeDirs(const std::string& path);

}  // namespace sluice::models
