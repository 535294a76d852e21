#pragma once
// How `sluice models` prints registry records: aligned text for people, one JSON document per
// command with --json for scripts.
#include <string>
#include <vector>

#include "sluice/models/registry.h"

namespace sluice::cli {

std::string VersionJson(const models::ModelVersion& v, const std::vector<std::string>& aliases);
std::string ChangeJson(const models::AliasChange& c);

void PrintModels(const std::vector<models::ModelSummary>& models, bool json);
void PrintVersions(const std::vector<models::ModelVersion>& versions,
                   const std::vector<models::AliasTarget>& aliases, bool json);
// One version in full, its aliases and its lineage (the version first, then its ancestors).
void PrintVersion(const std::vector<models::ModelVersion>& lineage,
                  const std::vector<models::AliasTarget>& aliases, bool json);
void PrintHistory(const std::vector<models::AliasChange>& history, bool json);

// The aliases among `all` that point at `version`.
std::vector<std::string> AliasesOf(const std::vector<models::AliasTarget>& all, int64_t version);

}  // namespace sluice::cli
