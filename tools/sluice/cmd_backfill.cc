#include <sys/stat.h>

#include <cstdio>

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "sluice/engine/backfill.h"
#include "sluice/spec/pipeline.h"

namespace sluice::cli {

namespace {

const char* kHelp =
    "usage: sluice backfill SPEC --output F.csv [--input F] [--labels F] [--dead-letter F]\n"
    "                       [--threads N] [--chunk-bytes B] [--no-score] [--quiet|--progress]\n\n"
    "Replays a log in file order and writes one CSV row per applied event: the event id, the\n"
    "event time, every feature (point-in-time, identical to what the streaming engine serves),\n"
    "the model's score column(s) when the spec has a model (unless --no-score, e.g. to make a\n"
    "training set before the first model exists), and with --labels the label joined\n"
    "point-in-time. Records that cannot be applied go to the\n"
    "dead-letter file (--dead-letter, else the spec's dead_letter.file) with their reason.\n"
    "--threads N gives byte-identical output for every N. --chunk-bytes B (default 4 MiB) sets "
    "how\n"
    "much input each parallel step takes; it changes speed and memory, never results.\n";

void PrintSummary(const engine::BackfillStats& s, size_t features) {
  std::fprintf(stderr, "backfill: %lld records, %lld applied, %lld dead letters",
               static_cast<long long>(s.records), static_cast<long long>(s.applied),
               static_cast<long long>(s.dead_letters));
  bool first = true;
  for (int r = 1; r < core::kNumReasons; ++r) {
    if (s.by_reason[r] == 0) continue;
    std::fprintf(stderr, "%s%s %lld", first ? " (" : ", ",
                 core::ReasonName(static_cast<core::Reason>(r)),
                 static_cast<long long>(s.by_reason[r]));
    first = false;
  }
  std::fprintf(stderr, "%s, %zu features, %lld keys, %.2fs, %.0f events/s\n", first ? "" : ")",
               features, static_cast<long long>(s.keys), s.seconds,
               s.seconds > 0 ? s.records / s.seconds : 0.0);
  if (s.labels_joined > 0 || s.label_dead_letters > 0) {
    std::fprintf(stderr, "backfill: %lld labels joined, %lld label dead letters\n",
                 static_cast<long long>(s.labels_joined),
                 static_cast<long long>(s.label_dead_letters));
  }
}

}  // namespace

int RunBackfill(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2,
                  {"input", "output", "labels", "dead-letter", "threads", "chunk-bytes"},
                  {"quiet", "progress", "no-score"}, &err)) {
    return Fail("backfill", err, 2);
  }
  if (args.positional().size() != 1)
    return Fail("backfill", "needs exactly one SPEC (see --help)", 2);
  if (!args.Has("output")) return Fail("backfill", "--output F.csv is required", 2);
  auto p = spec::LoadPipeline(args.positional()[0]);
  if (!p.ok()) return Fail("backfill", p.status().message(), 2);
  engine::BackfillOptions o;
  o.input = args.Get("input");
  o.output = args.Get("output");
  o.labels = args.Get("labels");
  o.dead_letter = args.Get("dead-letter");
  o.no_score = args.Has("no-score");
  o.threads = std::atoi(args.Get("threads", "1").c_str());
  if (o.threads < 1 || o.threads > 256)
    return Fail("backfill", "--threads must be between 1 and 256", 2);
  std::string input = o.input.empty() ? p->source.file : o.input;
  struct stat st {};
  const int64_t total = ::stat(input.c_str(), &st) == 0 ? st.st_size : 0;
  Progress bar("backfill", total, ProgressWanted(args.Has("progress"), args.Has("quiet")));
  o.progress = [&](int64_t done) { bar.Update(done); };
  auto stats = engine::RunBackfill(*p, o);
  bar.Finish();
  if (!stats.ok()) {
    const bool usage = stats.status().code() == core::Code::kInvalidArgument;
    return Fail("backfill", stats.status().message(), usage ? 2 : 1);
  }
  if (!args.Has("quiet")) PrintSummary(*stats, p->features.size());
  return 0;
}

}  // namespace sluice::cli
