// RunProcess: runs a program to completion with a given stdin and captures
// its stdout, stderr and exit status. Tests use it to drive the real `milf`
// binary exactly as a user would.
//
// Thread-safety: safe to call from several threads. The first call makes the
// calling process ignore SIGPIPE, so a child that exits without reading all
// of its input cannot kill the caller; children get the default disposition.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace milf::testing {

struct ProcessResult {
  int exit_code = -1;    // the child's exit status, or -1 if a signal ended it
  int term_signal = 0;   // the signal that ended the child, or 0
  std::string out;       // everything the child wrote to stdout
  std::string err;       // everything the child wrote to stderr
};

// Runs argv[0] (a path, not searched in PATH) with arguments argv[1...],
// writes `input` to its stdin and then closes it, and waits for it to exit.
// Fails with code "io" if the process cannot be started or a pipe breaks.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, std::string_view input);

}  // namespace milf::testing
