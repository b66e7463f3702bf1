// What the client command files share: running a command body with the
// CLI's error convention, opening the API session, and reading --data.
// Internal to src/cli/client_commands*.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "client/api_client.h"

namespace milf::cli {

// Exit statuses of the client commands: 0 success, 1 any failure (with one
// line "milf: ..." on stderr), 2 usage errors (CLI11), 124 an invocation
// that timed out.
inline constexpr int kExitError = 1;
inline constexpr int kExitInvocationTimeout = 124;

// Makes `body` the action of `command`. Its value becomes the exit status;
// an error is printed as "milf: <message>" and exits with kExitError.
using CommandBody = std::function<Result<int>()>;
void SetAction(CLI::App* command, int& exit_status, CommandBody body);

void PrintError(const Error& error);

// The signed-in session (client/api_client.h). `request_timeout_ms` bounds
// each request, waits for invocations included.
Result<std::unique_ptr<client::ApiClient>> OpenSession(std::int64_t request_timeout_ms = 60'000);

// --data: "TEXT" as is, "@FILE" the file's bytes, "-" all of stdin.
Result<std::string> ReadData(const std::string& spec);

// A name or id as one percent-encoded path segment.
std::string Segment(const std::string& text);

// Adds the --json flag every client command takes.
void AddJsonFlag(CLI::App* command, bool& json);

}  // namespace milf::cli
