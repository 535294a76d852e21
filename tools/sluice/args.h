#pragma once
// A minimal flag parser for the CLI: --name value, --name=value, boolean --flag, positionals.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sluice::cli {

class Args {
 public:
  // `flags` are the accepted value flags, `switches` the accepted boolean ones (without "--").
  bool Parse(int argc, char** argv, int first, const std::vector<std::string>& flags,
             const std::vector<std::string>& switches, std::string* error);
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The flag's value (its last one when repeated), or `def`.
  std::string Get(const std::string& name, const std::string& def = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second.back();
  }
  // Every value of a repeatable flag (--param a=1 --param b=2), in order.
  std::vector<std::string> GetAll(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Splits repeated `--param k=v` values into pairs; false (and `error`) when one has no key or `=`.
bool ParseParams(const std::vector<std::string>& kvs,
                 std::vector<std::pair<std::string, std::string>>* out, std::string* error);

}  // namespace sluice::cli
