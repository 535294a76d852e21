#include "sluice/models/input_check.h"

#include <unordered_set>

namespace sluice::models {

std::vector<std::string> CheckInputs(const std::vector<std::string>& model_inputs,
                                     const std::vector<std::string>& available) {
  const std::unordered_set<std::string> have(available.begin(), available.end());
  std::unordered_set<std::string> reported;
  std::vector<std::string> missing;
  for (const auto& name : model_inputs) {
    if (!have.count(name) && reported.insert(name).second) missing.push_back(name);
  }
  return missing;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace sluice::models
