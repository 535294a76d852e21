#pragma once
// Small helpers for the JSON the models module writes (model files, registry records, CLI
// output). Reading goes through simdjson; writing is this simple enough not to need a library.
// Stateless; safe from any thread.
#include <string>
#include <string_view>

namespace sluice::models {

// Appends `s` as a JSON string literal (quotes, escapes, control characters as \u00XX).
void AppendJsonString(std::string_view s, std::string* out);
// Appends a finite double so it parses back to the same bits; non-finite values become null,
// which JSON has no other spelling for.
void AppendJsonNumber(double v, std::string* out);

// Whether `text` is one well-formed JSON object (for metrics and parameters given by users).
bool IsJsonObject(std::string_view text);

}  // namespace sluice::models
