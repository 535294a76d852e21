#include "commands.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sluice::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"gen", "generate a realistic event stream (gen fraud)", RunGen},
      {"check", "validate a pipeline spec", RunCheck},
      {"backfill", "replay a log and write one feature row per event (CSV)", RunBackfill},
      {"run", "the streaming engine: source -> features -> model -> sink", RunRun},
      {"train", "train an XGBoost model on a backfill, evaluate it on a time holdout", RunTrain},
      {"predict", "score a CSV of feature vectors with a model file", RunPredict},
      {"models", "the model registry: list, show, register, alias, rollback, history", RunModels},
      {"kafka-dev", "a local Kafka-protocol cluster for development and tests", RunKafkaDev},
  };
  return kCommands;
}

std::string Who(const std::string& by) {
  if (!by.empty()) return by;
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "unknown";
}

int Fail(const char* cmd, const std::string& msg, int code) {
  std::fprintf(stderr, "sluice %s: %s\n", cmd, msg.c_str());
  return code;
}

bool HelpAsked(int argc, char** argv, const char* text) {
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(text, stdout);
      return true;
    }
  }
  return false;
}

}  // namespace sluice::cli
