#pragma once
// Matching a model's inputs to what a pipeline provides (SPEC.md §3 "Model inputs"): a model
// input the spec cannot provide is an error that names it. Stateless; safe from any thread.
#include <string>
#include <vector>

namespace sluice::models {

// The model inputs not among `available` (features and numeric fields), in model order, each
// once. Empty when the spec provides everything.
std::vector<std::string> CheckInputs(const std::vector<std::string>& model_inputs,
                                     const std::vector<std::string>& available);

// "a, b and c" for messages.
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace sluice::models
