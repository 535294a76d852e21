#include <cstdio>

#include "args.h"
#include "commands.h"
#include "sluice/engine/scoring.h"
#include "sluice/features/compiled.h"
#include "sluice/spec/pipeline.h"

namespace sluice::cli {

namespace {
const char* kHelp =
    "usage: sluice check SPEC [--no-model]\n\n"
    "Validates a pipeline spec: YAML shape, field types, every feature and expression, cycles,\n"
    "and the model: it is resolved (file, or registry alias or version, bytes re-hashed), loaded,\n"
    "and each of its inputs must be a feature or numeric field of the spec. --no-model skips the\n"
    "model (e.g. before the first one is trained). Errors name the file, line and key; the exit\n"
    "code is 2 on any error, 0 when valid.\n";
}

int RunCheck(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2, {}, {"no-model"}, &err)) return Fail("check", err, 2);
  if (args.positional().size() != 1) return Fail("check", "needs exactly one SPEC (see --help)", 2);
  auto p = spec::LoadPipeline(args.positional()[0]);
  if (!p.ok()) return Fail("check", p.status().message(), 2);
  auto cf = features::Compile(*p);
  if (!cf.ok()) return Fail("check", cf.status().message(), 2);
  int aggs = 0, groups = 0;
  for (const auto& f : p->features) aggs += f.is_expr ? 0 : 1;
  for (const auto& ks : (*cf)->key_spaces) groups += static_cast<int>(ks.groups.size());
  std::printf(
      "%s: ok — pipeline '%s', %zu fields, %zu features (%d aggregations in %d windows over %zu "
      "keys, "
      "%zu expressions), allowed_lateness %s, state_ttl %s\n",
      p->spec_path.c_str(), p->name.c_str(), p->schema.size(), p->features.size(), aggs, groups,
      (*cf)->key_spaces.size(), p->features.size() - aggs,
      core::FormatDuration(p->allowed_lateness).c_str(),
      core::FormatDuration(p->state_ttl).c_str());
  if (p->model && !args.Has("no-model")) {
    auto m = engine::ScoringModel::Load(*p);
    if (!m.ok()) return Fail("check", m.status().message(), 2);
    std::printf("%s: model ok — %s%s, %zu output(s), every input provided\n",
                p->spec_path.c_str(), (*m)->name().c_str(),
                (*m)->version() ? (" v" + std::to_string((*m)->version())).c_str() : "",
                (*m)->num_outputs());
  }
  return 0;
}

}  // namespace sluice::cli
