// The sluice command line (SPEC.md §1). Exit codes: 0 ok, 1 runtime failure, 2 usage or spec error.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "args.h"
#include "commands.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "sluice — a real-time ML streaming engine\n\n"
               "usage: sluice <command> [options]   (sluice <command> --help for details)\n\n"
               "commands:\n");
  for (const auto& c : sluice::cli::Commands())
    std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    Usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : sluice::cli::Commands()) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(argc, argv);
  }
  std::fprintf(stderr, "sluice: unknown command '%s'\n\n", argv[1]);
  Usage(stderr);
  return 2;
}
