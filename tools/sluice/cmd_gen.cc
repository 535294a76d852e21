#include <cstdio>
#include <cstdlib>

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "sluice/gen/fraud.h"

namespace sluice::cli {

namespace {

const char* kHelp =
    "usage: sluice gen fraud --events N --seed S --out events.jsonl [--labels-out labels.jsonl]\n"
    "                        [--users U] [--drift-at FRACTION] [--fraud-rate R] "
    "[--quiet|--progress]\n\n"
    "Writes a deterministic card-transaction stream: users with home locations and spending "
    "habits,\n"
    "merchants with categories, daily rhythms, injected fraud (card-testing bursts, account "
    "takeover\n"
    "with a geo jump, a compromised merchant), realistic arrival disorder, and chargeback labels "
    "that\n"
    "land days later. --drift-at shifts the merchant mix and amounts from that fraction of the "
    "stream on.\n";

bool ParseInt(const std::string& s, int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

int RunGen(int argc, char** argv) {
  if (HelpAsked(argc, argv, kHelp)) return 0;
  Args args;
  std::string err;
  if (!args.Parse(argc, argv, 2,
                  {"events", "seed", "out", "labels-out", "users", "drift-at", "fraud-rate"},
                  {"quiet", "progress"}, &err)) {
    return Fail("gen", err, 2);
  }
  if (args.positional().size() != 1 || args.positional()[0] != "fraud") {
    return Fail("gen", "the generator to run is 'fraud' (sluice gen fraud --help)", 2);
  }
  gen::FraudOptions o;
  int64_t seed = 1;
  if (!ParseInt(args.Get("events", "100000"), &o.events) || o.events < 1)
    return Fail("gen", "--events must be a positive integer", 2);
  if (!ParseInt(args.Get("seed", "1"), &seed)) return Fail("gen", "--seed must be an integer", 2);
  o.seed = static_cast<uint64_t>(seed);
  if (args.Has("users") && (!ParseInt(args.Get("users"), &o.users) || o.users < 1))
    return Fail("gen", "--users must be positive", 2);
  if (args.Has("drift-at")) {
    o.drift_at = std::atof(args.Get("drift-at").c_str());
    if (!(o.drift_at > 0 && o.drift_at < 1))
      return Fail("gen", "--drift-at must be a fraction in (0, 1)", 2);
  }
  if (args.Has("fraud-rate")) {
    o.fraud_rate = std::atof(args.Get("fraud-rate").c_str());
    if (!(o.fraud_rate >= 0 && o.fraud_rate <= 0.5))
      return Fail("gen", "--fraud-rate must be in [0, 0.5]", 2);
  }
  if (!args.Has("out")) return Fail("gen", "--out FILE is required", 2);
  o.out_path = args.Get("out");
  o.labels_path = args.Get("labels-out");
  Progress bar("gen", 1000, ProgressWanted(args.Has("progress"), args.Has("quiet")));
  gen::FraudStats s;
  core::Status st =
      gen::GenerateFraud(o, &s, [&](double f) { bar.Update(static_cast<int64_t>(f * 1000)); });
  bar.Finish();
  if (!st.ok()) return Fail("gen", st.message(), 1);
  if (!args.Has("quiet")) {
    std::fprintf(
        stderr,
        "gen: %lld transactions (%lld fraud: %lld card-testing, %lld takeover, %lld compromised "
        "merchant), "
        "%lld users, %lld merchants, %lld labels, %lld out of order, %lld late\n",
        static_cast<long long>(s.events), static_cast<long long>(s.fraud),
        static_cast<long long>(s.fraud_card_testing), static_cast<long long>(s.fraud_takeover),
        static_cast<long long>(s.fraud_compromised_merchant), static_cast<long long>(s.users),
        static_cast<long long>(s.merchants), static_cast<long long>(s.labels),
        static_cast<long long>(s.out_of_order), static_cast<long long>(s.late));
  }
  return 0;
}

}  // namespace sluice::cli
