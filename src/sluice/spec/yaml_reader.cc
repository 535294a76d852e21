#include "sluice/spec/yaml_reader.h"

#include <charconv>
#include <set>

namespace sluice::spec::internal {

using core::Result;
using core::Status;

Status YamlReader::ErrorAt(int line, const std::string& path, const std::string& msg) const {
  std::string where = file_ + ":" + (line > 0 ? std::to_string(line) : std::string("?"));
  return Status::InvalidArgument(where + ": " + (path.empty() ? "" : path + ": ") + msg);
}

Status YamlReader::Error(const YAML::Node& node, const std::string& path,
                         const std::string& msg) const {
  return ErrorAt(Loc(node, path).line, path, msg);
}

Location YamlReader::Loc(const YAML::Node& node, const std::string& path) const {
  int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
  return Location{line, path};
}

Status YamlReader::CheckMap(const YAML::Node& node, const std::string& path,
                            std::initializer_list<const char*> allowed) const {
  if (!node.IsMap()) return Error(node, path, "expected a mapping of keys to values");
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return Error(kv.first, path, "keys must be plain names");
    std::string key = kv.first.Scalar();
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      return Error(kv.first, Join(path, key), "unknown key (expected one of: " + list + ")");
    }
    if (!seen.insert(key).second) return Error(kv.first, Join(path, key), "key given twice");
  }
  return Status::Ok();
}

Status YamlReader::CheckRequired(const YAML::Node& map, const std::string& path,
                                 const char* key) const {
  if (!map[key]) return Error(map, Join(path, key), "required key is missing");
  return Status::Ok();
}

Result<std::string> YamlReader::String(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar() || node.Scalar().empty())
    return Error(node, path, "expected a non-empty string");
  return node.Scalar();
}

Result<bool> YamlReader::Bool(const YAML::Node& node, const std::string& path) const {
  if (node.IsScalar() && node.Scalar() == "true") return true;
  if (node.IsScalar() && node.Scalar() == "false") return false;
  return Error(node, path, "expected true or false");
}

Result<int64_t> YamlReader::Int(const YAML::Node& node, const std::string& path, int64_t min,
                                int64_t max) const {
  if (!node.IsScalar()) return Error(node, path, "expected an integer");
  const std::string& s = node.Scalar();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return Error(node, path, "expected an integer, got '" + s + "'");
  if (v < min || v > max) {
    return Error(node, path,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

Result<double> YamlReader::Double(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) return Error(node, path, "expected a number");
  const std::string& s = node.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return Error(node, path, "expected a number, got '" + s + "'");
  return v;
}

Result<core::Duration> YamlReader::Dur(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) return Error(node, path, "expected a duration like 250ms, 30s, 5m, 1h, 7d");
  auto d = core::ParseDuration(node.Scalar());
  if (!d.ok()) return Error(node, path, d.status().message() + ", got '" + node.Scalar() + "'");
  return *d;
}

}  // namespace sluice::spec::internal
