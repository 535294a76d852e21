#pragma once
// Typed reads from yaml-cpp nodes with errors that name file, line and key path.
// Internal to the spec module. yaml-cpp throws; nothing thrown here leaves the module.
#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>

#include "sluice/core/status.h"
#include "sluice/core/time.h"
#include "sluice/spec/pipeline.h"

namespace sluice::spec::internal {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  core::Status Error(const YAML::Node& node, const std::string& path, const std::string& msg) const;
  core::Status ErrorAt(int line, const std::string& path, const std::string& msg) const;
  Location Loc(const YAML::Node& node, const std::string& path) const;

  // `node` must be a map whose keys are all in `allowed` (and not repeated).
  core::Status CheckMap(const YAML::Node& node, const std::string& path,
                        std::initializer_list<const char*> allowed) const;
  core::Status CheckRequired(const YAML::Node& map, const std::string& path, const char* key) const;

  core::Result<std::string> String(const YAML::Node& node, const std::string& path) const;
  core::Result<bool> Bool(const YAML::Node& node, const std::string& path) const;
  core::Result<int64_t> Int(const YAML::Node& node, const std::string& path, int64_t min,
                            int64_t max) const;
  core::Result<double> Double(const YAML::Node& node, const std::string& path) const;
  core::Result<core::Duration> Dur(const YAML::Node& node, const std::string& path) const;

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

inline std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

}  // namespace sluice::spec::internal
