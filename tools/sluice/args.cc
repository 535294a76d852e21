#include "args.h"

#include <algorithm>

namespace sluice::cli {

bool Args::Parse(int argc, char** argv, int first, const std::vector<std::string>& flags,
                 const std::vector<std::string>& switches, std::string* error) {
  auto known = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() < 3 || a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (known(switches, name)) {
      values_[name].push_back(inline_value ? value : "true");
    } else if (known(flags, name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          *error = "--" + name + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      values_[name].push_back(value);
    } else {
      *error = "unknown option --" + name;
      return false;
    }
  }
  return true;
}

bool ParseParams(const std::vector<std::string>& kvs,
                 std::vector<std::pair<std::string, std::string>>* out, std::string* error) {
  for (const std::string& kv : kvs) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "--param needs key=value, got '" + kv + "'";
      return false;
    }
    out->emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return true;
}

}  // namespace sluice::cli
