// sluice models list|show|register|alias|rollback|history|export|verify --registry DIR ...
// (SPEC.md §1). Exit codes: 0 ok, 1 runtime failure (missing model, corrupted artifact, I/O),
// 2 usage error (bad flags, invalid names or metrics, a spec that cannot feed the model).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "commands.h"
#include "models_output.h"
#include "sluice/models/artifact_info.h"
#include "sluice/models/file_util.h"
#include "sluice/models/input_check.h"
#include "sluice/models/registry.h"
#include "sluice/models/sha256.h"
#include "sluice/spec/pipeline.h"

namespace sluice::cli {

namespace {

using models::Registry;

const char* kHelp =
    "usage: sluice models <subcommand> --registry DIR [options]   (<subcommand> --help)\n\n"
    "The model registry: SQLite metadata (DIR/registry.db) and content-addressed artifacts\n"
    "(DIR/artifacts/sha256/..). Versions are numbered per name and never change; aliases\n"
    "(production, canary, shadow, any name) point at versions with an append-only history.\n\n"
    "  list      [--name N]                      models, or the versions of one model\n"
    "  show      --name N [--version V | --alias A]  one version, its aliases and lineage\n"
    "  register  --name N --file MODEL [...]     store a model file as the next version\n"
    "  alias     --name N --alias A --version V  point an alias at a version\n"
    "  rollback  --name N --alias A              return an alias to its previous version\n"
    "  history   --name N [--alias A]            every alias change: when, who, why\n"
    "  export    --name N [--version V | --alias A] --out FILE   write a verified artifact\n"
    "  verify    [--name N]                      re-hash artifacts; exit 1 if any is damaged\n\n"
    "Common options: --registry DIR (required), --json (machine-readable output).\n"
    "Writers may run concurrently (several processes registering at once is safe).\n";

struct Sub {
  const char* name;
  const char* help;
  std::vector<std::string> flags;
  int (*run)(const Args& args, const std::vector<std::pair<std::string, std::string>>& params);
};

int Exit(const char* sub, const core::Status& st) {
  const std::string cmd = std::string("models ") + sub;
  return Fail(cmd.c_str(), st.message(), st.code() == core::Code::kInvalidArgument ? 2 : 1);
}

int Usage(const char* sub, const std::string& msg) {
  const std::string cmd = std::string("models ") + sub;
  return Fail(cmd.c_str(), msg + " (see --help)", 2);
}

bool ParseVersion(const std::string& s, int64_t* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 1) return false;
  *out = v;
  return true;
}

core::Result<std::unique_ptr<Registry>> OpenRegistry(const Args& args, bool create) {
  return Registry::Open(args.Get("registry"), {.create = create});
}

// --version V, --alias A, or the latest version.
core::Result<models::ModelVersion> Select(Registry* reg, const Args& args) {
  const std::string name = args.Get("name");
  if (args.Has("version")) {
    int64_t v = 0;
    if (!ParseVersion(args.Get("version"), &v))
      return core::Status::InvalidArgument("--version must be a positive integer");
    return reg->GetVersion(name, v);
  }
  return reg->Resolve(name, args.Get("alias", "latest"));
}

int RunList(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("list", reg.status());
  const bool json = args.Has("json");
  if (!args.Has("name")) {
    auto models = (*reg)->ListModels();
    if (!models.ok()) return Exit("list", models.status());
    PrintModels(*models, json);
    return 0;
  }
  auto versions = (*reg)->ListVersions(args.Get("name"));
  if (!versions.ok()) return Exit("list", versions.status());
  auto aliases = (*reg)->Aliases(args.Get("name"));
  if (!aliases.ok()) return Exit("list", aliases.status());
  PrintVersions(*versions, *aliases, json);
  return 0;
}

int RunShow(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  if (!args.Has("name")) return Usage("show", "--name N is required");
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("show", reg.status());
  auto v = Select(reg->get(), args);
  if (!v.ok()) return Exit("show", v.status());
  auto lineage = (*reg)->Lineage(v->name, v->version);
  if (!lineage.ok()) return Exit("show", lineage.status());
  auto aliases = (*reg)->Aliases(v->name);
  if (!aliases.ok()) return Exit("show", aliases.status());
  PrintVersion(*lineage, *aliases, args.Has("json"));
  return 0;
}

// Checks the model's inputs against the spec and returns the spec's hash.
core::Result<std::string> CheckAgainstSpec(const std::string& path,
                                           const models::ArtifactInfo& info) {
  auto text = models::ReadWholeFile(path);
  if (!text.ok()) return core::Status::InvalidArgument(text.status().message());
  auto p = spec::LoadPipeline(path);
  if (!p.ok()) return core::Status::InvalidArgument(p.status().message());
  if (!info.inputs) {
    std::fprintf(stderr,
                 "sluice models register: note: a %s file does not name its inputs; "
                 "they were not checked against %s\n",
                 info.format.c_str(), path.c_str());
  } else if (auto missing = models::CheckInputs(*info.inputs, p->ModelInputCandidates()); !missing.empty()) {
    return core::Status::InvalidArgument("the model needs input" +
                                         std::string(missing.size() > 1 ? "s " : " ") +
                                         models::JoinNames(missing) + " that " + path +
                                         " does not provide (not a feature or numeric field)");
  }
  return models::Sha256Hex(*text);
}

core::Status FillNewVersion(const Args& args, models::NewVersion* v) {
  v->name = args.Get("name");
  auto bytes = models::ReadWholeFile(args.Get("file"));
  if (!bytes.ok()) return bytes.status();
  v->artifact = std::move(*bytes);
  auto info = models::DescribeArtifact(v->artifact, args.Get("file"));
  if (!info.ok()) return info.status();
  if (args.Has("spec")) {
    auto hash = CheckAgainstSpec(args.Get("spec"), *info);
    if (!hash.ok()) return hash.status();
    v->spec_hash = *hash;
  }
  v->training_digest = args.Get("training-digest");
  if (args.Has("training-data")) {
    auto data = models::ReadWholeFile(args.Get("training-data"));
    if (!data.ok()) return data.status();
    v->training_digest = models::Sha256Hex(*data);
  }
  v->metrics_json = args.Get("metrics", "{}");
  if (args.Has("parent")) {
    int64_t parent = 0;
    if (!ParseVersion(args.Get("parent"), &parent))
      return core::Status::InvalidArgument("--parent must be a positive version number");
    v->parent = parent;
  }
  v->created_by = Who(args.Get("by"));
  v->reason = args.Get("reason");
  return core::Status::Ok();
}

int RunRegister(const Args& args, const std::vector<std::pair<std::string, std::string>>& params) {
  if (!args.Has("name") || !args.Has("file"))
    return Usage("register", "--name N and --file MODEL are required");
  if (args.Has("training-data") && args.Has("training-digest"))
    return Usage("register", "give --training-data or --training-digest, not both");
  models::NewVersion v;
  v.params = params;
  if (auto st = FillNewVersion(args, &v); !st.ok()) return Exit("register", st);
  auto reg = OpenRegistry(args, true);
  if (!reg.ok()) return Exit("register", reg.status());
  auto m = (*reg)->Register(v);
  if (!m.ok()) return Exit("register", m.status());
  if (args.Has("json")) {
    std::printf("%s\n", VersionJson(*m, {}).c_str());
  } else {
    std::printf("%lld\n", static_cast<long long>(m->version));
    if (!args.Has("quiet"))
      std::fprintf(stderr, "registered %s version %lld (sha256 %s, %s)\n", m->name.c_str(),
                   static_cast<long long>(m->version), m->artifact_sha256.c_str(),
                   m->format.c_str());
  }
  return 0;
}

void PrintChange(const models::AliasChange& c, bool json) {
  if (json) {
    std::printf("%s\n", ChangeJson(c).c_str());
  } else if (c.seq == 0) {
    std::printf("%s@%s already points at version %lld; nothing changed\n", c.name.c_str(),
                c.alias.c_str(), static_cast<long long>(c.to));
  } else {
    std::printf("%s@%s: %s -> %lld\n", c.name.c_str(), c.alias.c_str(),
                c.from ? std::to_string(*c.from).c_str() : "(new)", static_cast<long long>(c.to));
  }
}

int RunAlias(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  int64_t version = 0;
  if (!args.Has("name") || !args.Has("alias") || !args.Has("version"))
    return Usage("alias", "--name N, --alias A and --version V are required");
  if (!ParseVersion(args.Get("version"), &version))
    return Usage("alias", "--version must be a positive integer");
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("alias", reg.status());
  auto c =
      (*reg)->SetAlias(args.Get("name"), args.Get("alias"), version, Who(args.Get("by")), args.Get("reason"));
  if (!c.ok()) return Exit("alias", c.status());
  PrintChange(*c, args.Has("json"));
  return 0;
}

int RunRollback(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  if (!args.Has("name") || !args.Has("alias"))
    return Usage("rollback", "--name N and --alias A are required");
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("rollback", reg.status());
  auto c = (*reg)->Rollback(args.Get("name"), args.Get("alias"), Who(args.Get("by")), args.Get("reason"));
  if (!c.ok()) return Exit("rollback", c.status());
  PrintChange(*c, args.Has("json"));
  return 0;
}

int RunHistory(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  if (!args.Has("name")) return Usage("history", "--name N is required");
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("history", reg.status());
  auto h = (*reg)->History(args.Get("name"), args.Get("alias"));
  if (!h.ok()) return Exit("history", h.status());
  PrintHistory(*h, args.Has("json"));
  return 0;
}

int RunExport(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  if (!args.Has("name") || !args.Has("out"))
    return Usage("export", "--name N and --out FILE are required");
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("export", reg.status());
  auto v = Select(reg->get(), args);
  if (!v.ok()) return Exit("export", v.status());
  auto bytes = (*reg)->LoadArtifact(*v);
  if (!bytes.ok()) return Exit("export", bytes.status());
  if (auto st = models::WriteFileAtomically(args.Get("out"), *bytes); !st.ok())
    return Exit("export", st);
  std::fprintf(stderr, "wrote %s version %lld to %s\n", v->name.c_str(),
               static_cast<long long>(v->version), args.Get("out").c_str());
  return 0;
}

int RunVerify(const Args& args, const std::vector<std::pair<std::string, std::string>>&) {
  auto reg = OpenRegistry(args, false);
  if (!reg.ok()) return Exit("verify", reg.status());
  std::vector<std::string> names;
  if (args.Has("name")) {
    names.push_back(args.Get("name"));
  } else {
    auto models = (*reg)->ListModels();
    if (!models.ok()) return Exit("verify", models.status());
    for (const auto& m : *models) names.push_back(m.name);
  }
  int64_t checked = 0, bad = 0;
  for (const auto& name : names) {
    auto versions = (*reg)->ListVersions(name);
    if (!versions.ok()) return Exit("verify", versions.status());
    for (const auto& v : *versions) {
      ++checked;
      if (auto bytes = (*reg)->LoadArtifact(v); !bytes.ok()) {
        ++bad;
        std::fprintf(stderr, "sluice models verify: %s\n", bytes.status().message().c_str());
      }
    }
  }
  std::printf("%lld versions checked, %lld damaged\n", static_cast<long long>(checked),
              static_cast<long long>(bad));
  return bad == 0 ? 0 : 1;
}

const std::vector<Sub>& Subs() {
  static const std::vector<Sub> kSubs = {
      {"list",
       "usage: sluice models list --registry DIR [--name N] [--json]\n\n"
       "Lists the models (versions, latest, aliases), or with --name the versions of one.\n",
       {"name"},
       RunList},
      {"show",
       "usage: sluice models show --registry DIR --name N [--version V | --alias A] "
       "[--json]\n\nShows one version (default: the latest): artifact, spec hash, "
       "training-set digest,\nparameters, metrics, who registered it and why, its "
       "aliases and its lineage (parent chain).\n",
       {"name", "version", "alias"},
       RunShow},
      {"register",
       "usage: sluice models register --registry DIR --name N --file MODEL [--spec SPEC]\n"
       "         [--param k=v]... [--metrics JSON] [--parent V] [--training-data F |\n"
       "         --training-digest D] [--reason TEXT] [--by USER] [--json] [--quiet]\n\n"
       "Stores MODEL's bytes (content-addressed by SHA-256) and records the next version of N;\n"
       "prints the version number. --spec records the spec's hash and refuses a model whose\n"
       "inputs the spec cannot provide (exit 2, naming them). --training-data records the\n"
       "SHA-256 of the training file. --by defaults to $USER. The registry is created if absent.\n",
       {"name", "file", "spec", "param", "metrics", "parent", "training-data", "training-digest",
        "reason", "by"},
       RunRegister},
      {"alias",
       "usage: sluice models alias --registry DIR --name N --alias A --version V "
       "[--reason TEXT] [--by USER] [--json]\n\nPoints alias A (production, canary, "
       "shadow, any name) of model N at version V and\nrecords the change in the "
       "alias's history (--by defaults to $USER).\n",
       {"name", "alias", "version", "reason", "by"},
       RunAlias},
      {"rollback",
       "usage: sluice models rollback --registry DIR --name N --alias A "
       "[--reason TEXT] [--by USER] [--json]\n\nReturns alias A to the version it "
       "pointed at before its latest change (repeatable:\nset 1, 2, 3 then rollback "
       "twice gives 1). Exit 1 when there is nothing to roll back to.\n",
       {"name", "alias", "reason", "by"},
       RunRollback},
      {"history",
       "usage: sluice models history --registry DIR --name N [--alias A] [--json]\n\n"
       "Every change of the model's aliases, oldest first: when, which alias, set or\n"
       "rollback, from and to which version, by whom and why.\n",
       {"name", "alias"},
       RunHistory},
      {"export",
       "usage: sluice models export --registry DIR --name N [--version V | --alias A] "
       "--out FILE\n\nWrites a version's artifact to FILE after checking its "
       "SHA-256; a damaged artifact\nis refused (exit 1).\n",
       {"name", "version", "alias", "out"},
       RunExport},
      {"verify",
       "usage: sluice models verify --registry DIR [--name N]\n\nRe-hashes the "
       "artifact of every version (of N, or of all models); exit 1 if any\nno "
       "longer matches its recorded SHA-256 or is missing.\n",
       {"name"},
       RunVerify},
  };
  return kSubs;
}

}  // namespace

int RunModels(int argc, char** argv) {
  const Sub* sub = nullptr;
  for (const auto& s : Subs()) {
    if (argc >= 3 && std::strcmp(argv[2], s.name) == 0) sub = &s;
  }
  if (sub == nullptr) {
    if (HelpAsked(argc, argv, kHelp)) return 0;
    std::fputs(kHelp, stderr);
    return argc < 3 ? 2 : Fail("models", std::string("unknown subcommand '") + argv[2] + "'", 2);
  }
  if (HelpAsked(argc, argv, sub->help)) return 0;
  std::vector<std::string> flags = sub->flags;
  flags.push_back("registry");
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 3, flags, {"json", "quiet"}, &err)) return Usage(sub->name, err);
  std::vector<std::pair<std::string, std::string>> params;
  if (!ParseParams(args.GetAll("param"), &params, &err)) return Usage(sub->name, err);
  if (!args.positional().empty())
    return Usage(sub->name, "unexpected argument '" + args.positional()[0] + "'");
  if (!args.Has("registry")) return Usage(sub->name, "--registry DIR is required");
  return sub->run(args, params);
}

}  // namespace sluice::cli
