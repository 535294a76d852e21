#include "models_output.h"

#include <cstdio>

#include "sluice/models/json_text.h"

namespace sluice::cli {

namespace {

using models::AppendJsonString;

std::string Joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string OptVersion(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : std::string("-");
}

void Field(const char* key, const std::string& value, std::string* out) {
  *out += ',';
  AppendJsonString(key, out);
  *out += ':';
  AppendJsonString(value, out);
}

}  // namespace

std::vector<std::string> AliasesOf(const std::vector<models::AliasTarget>& all, int64_t version) {
  std::vector<std::string> out;
  for (const auto& a : all) {
    if (a.version == version) out.push_back(a.alias);
  }
  return out;
}

std::string VersionJson(const models::ModelVersion& v, const std::vector<std::string>& aliases) {
  std::string out = "{\"name\":";
  AppendJsonString(v.name, &out);
  out += ",\"version\":" + std::to_string(v.version);
  Field("artifact_sha256", v.artifact_sha256, &out);
  out += ",\"artifact_bytes\":" + std::to_string(v.artifact_bytes);
  Field("format", v.format, &out);
  Field("spec_hash", v.spec_hash, &out);
  Field("training_digest", v.training_digest, &out);
  Field("profile_sha256", v.profile_sha256, &out);
  out += ",\"params\":" + v.params_json + ",\"metrics\":" + v.metrics_json;
  out += ",\"parent\":" + (v.parent ? std::to_string(*v.parent) : std::string("null"));
  Field("created_at", v.created_at, &out);
  Field("created_by", v.created_by, &out);
  Field("reason", v.reason, &out);
  out += ",\"aliases\":[";
  for (size_t i = 0; i < aliases.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(aliases[i], &out);
  }
  return out + "]}";
}

std::string ChangeJson(const models::AliasChange& c) {
  std::string out = "{\"seq\":" + std::to_string(c.seq);
  Field("name", c.name, &out);
  Field("alias", c.alias, &out);
  Field("action", c.action, &out);
  out += ",\"from\":" + (c.from ? std::to_string(*c.from) : std::string("null"));
  out += ",\"to\":" + std::to_string(c.to);
  Field("at", c.at, &out);
  Field("by", c.by, &out);
  Field("reason", c.reason, &out);
  return out + "}";
}

void PrintModels(const std::vector<models::ModelSummary>& list, bool json) {
  if (json) {
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& m = list[i];
      out += i ? ",{\"name\":" : "{\"name\":";
      AppendJsonString(m.name, &out);
      out += ",\"versions\":" + std::to_string(m.versions) +
             ",\"latest\":" + std::to_string(m.latest) + ",\"aliases\":{";
      for (size_t j = 0; j < m.aliases.size(); ++j) {
        if (j) out += ',';
        AppendJsonString(m.aliases[j].alias, &out);
        out += ':' + std::to_string(m.aliases[j].version);
      }
      out += "}}";
    }
    std::printf("%s]\n", out.c_str());
    return;
  }
  std::printf("%-24s %8s %7s  %-24s  %s\n", "NAME", "VERSIONS", "LATEST", "LAST REGISTERED",
              "ALIASES");
  for (const auto& m : list) {
    std::vector<std::string> aliases;
    for (const auto& a : m.aliases) aliases.push_back(a.alias + "=" + std::to_string(a.version));
    std::printf("%-24s %8lld %7lld  %-24s  %s\n", m.name.c_str(),
                static_cast<long long>(m.versions), static_cast<long long>(m.latest),
                m.latest_created_at.c_str(), OrDash(Joined(aliases, " ")).c_str());
  }
}

void PrintVersions(const std::vector<models::ModelVersion>& versions,
                   const std::vector<models::AliasTarget>& aliases, bool json) {
  if (json) {
    std::string out = "[";
    for (size_t i = 0; i < versions.size(); ++i) {
      if (i) out += ',';
      out += VersionJson(versions[i], AliasesOf(aliases, versions[i].version));
    }
    std::printf("%s]\n", out.c_str());
    return;
  }
  std::printf("%7s  %-24s  %-12s  %-13s  %-12s  %6s  %-18s %s\n", "VERSION", "CREATED", "BY",
              "FORMAT", "SHA256", "PARENT", "ALIASES", "REASON");
  for (const auto& v : versions) {
    std::printf("%7lld  %-24s  %-12s  %-13s  %-12s  %6s  %-18s %s\n",
                static_cast<long long>(v.version), v.created_at.c_str(), v.created_by.c_str(),
                v.format.c_str(), v.artifact_sha256.substr(0, 12).c_str(),
                OptVersion(v.parent).c_str(),
                OrDash(Joined(AliasesOf(aliases, v.version), ",")).c_str(), v.reason.c_str());
  }
}

void PrintVersion(const std::vector<models::ModelVersion>& lineage,
                  const std::vector<models::AliasTarget>& aliases, bool json) {
  const models::ModelVersion& v = lineage.front();
  std::vector<std::string> chain;
  for (const auto& l : lineage) chain.push_back(std::to_string(l.version));
  if (json) {
    std::string out = VersionJson(v, AliasesOf(aliases, v.version));
    out.pop_back();
    std::printf("%s,\"lineage\":[%s]}\n", out.c_str(), Joined(chain, ",").c_str());
    return;
  }
  std::printf("name:            %s\nversion:         %lld\n", v.name.c_str(),
              static_cast<long long>(v.version));
  std::printf("aliases:         %s\n", OrDash(Joined(AliasesOf(aliases, v.version), ", ")).c_str());
  std::printf("artifact sha256: %s (%lld bytes, %s)\n", v.artifact_sha256.c_str(),
              static_cast<long long>(v.artifact_bytes), v.format.c_str());
  std::printf("spec hash:       %s\ntraining set:    %s\n", OrDash(v.spec_hash).c_str(),
              OrDash(v.training_digest).c_str());
  std::printf("profile sha256:  %s\n", OrDash(v.profile_sha256).c_str());
  std::printf("params:          %s\nmetrics:         %s\n", v.params_json.c_str(),
              v.metrics_json.c_str());
  std::printf("created:         %s by %s\nreason:          %s\n", v.created_at.c_str(),
              v.created_by.c_str(), OrDash(v.reason).c_str());
  std::printf("lineage:         %s\n", Joined(chain, " <- ").c_str());
}

void PrintHistory(const std::vector<models::AliasChange>& history, bool json) {
  if (json) {
    std::string out = "[";
    for (size_t i = 0; i < history.size(); ++i) out += (i ? "," : "") + ChangeJson(history[i]);
    std::printf("%s]\n", out.c_str());
    return;
  }
  std::printf("%-24s  %-12s  %-8s  %9s  %-12s  %s\n", "AT", "ALIAS", "ACTION", "VERSION", "BY",
              "REASON");
  for (const auto& c : history) {
    const std::string move = OptVersion(c.from) + " -> " + std::to_string(c.to);
    std::printf("%-24s  %-12s  %-8s  %9s  %-12s  %s\n", c.at.c_str(), c.alias.c_str(),
                c.action.c_str(), move.c_str(), c.by.c_str(), c.reason.c_str());
  }
}

}  // namespace sluice::cli
