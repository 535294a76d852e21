#pragma once
// The CLI's commands; each parses its own flags and returns the process exit code.
#include <string>
#include <vector>

namespace sluice::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

const std::vector<Command>& Commands();

int RunGen(int argc, char** argv);
int RunCheck(int argc, char** argv);
int RunBackfill(int argc, char** argv);
int RunRun(int argc, char** argv);
int RunTrain(int argc, char** argv);
int RunPredict(int argc, char** argv);
int RunModels(int argc, char** argv);
int RunKafkaDev(int argc, char** argv);

// Shared by commands: prints "sluice <cmd>: <msg>" and returns the code.
int Fail(const char* cmd, const std::string& msg, int code);
// Who is making a change, for the registry's records: `by` (--by) if given, else $USER.
std::string Who(const std::string& by);
// Prints the help text when argv has --help; returns true if it did.
bool HelpAsked(int argc, char** argv, const char* text);

}  // namespace sluice::cli
