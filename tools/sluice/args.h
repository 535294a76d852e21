#pragma once
// A minimal flag parser for the CLI: --name value, --name=value, boolean --flag, positionals.
#include <map>
#include <string>
#include <vector>

namespace sluice::cli {

class Args {
 public:
  // `flags` are the accepted value flags, `switches` the accepted boolean ones (without "--").
  bool Parse(int argc, char** argv, int first, const std::vector<std::string>& flags,
             const std::vector<std::string>& switches, std::string* error);
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& def = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace sluice::cli
