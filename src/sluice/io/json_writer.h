#pragma once
// Small helpers for writing JSON text by hand on hot paths (no DOM, no allocation beyond `out`).
#include <string>
#include <string_view>

namespace sluice::io {

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 bytes become U+FFFD;
// callers that must keep the exact bytes also write a base64 copy (see dead_letter.h).
// Returns whether `s` was valid UTF-8 (it had to find out anyway).
bool AppendJsonString(std::string_view s, std::string* out);
bool IsValidUtf8(std::string_view s);
void AppendBase64(std::string_view s, std::string* out);

}  // namespace sluice::io
