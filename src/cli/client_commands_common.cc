#include "cli/client_commands_common.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "client/credentials.h"
#include "client/url.h"

namespace milf::cli {

void PrintError(const Error& error) { std::cerr << "milf: " << error.message << std::endl; }

void SetAction(CLI::App* command, int& exit_status, CommandBody body) {
  command->callback([&exit_status, body = std::move(body)] {
    auto status = body();
    if (status) {
      exit_status = *status;
    } else {
      PrintError(status.error());
      exit_status = kExitError;
    }
  });
}

Result<std::unique_ptr<client::ApiClient>> OpenSession(std::int64_t request_timeout_ms) {
  auto env = client::ClientEnvironment::FromProcess();
  if (!env) return Fail(std::move(env).error());
  client::HttpClientOptions options;
  options.request_timeout_ms = request_timeout_ms;
  return client::ApiClient::Open(*env, options);
}

Result<std::string> ReadData(const std::string& spec) {
  if (spec == "-") {
    std::string data{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    if (std::cin.bad()) return Fail("io", "cannot read standard input");
    return data;
  }
  if (spec.starts_with("@")) {
    const std::string path = spec.substr(1);
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail("io", "cannot open " + path + ": " + std::strerror(errno));
    std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return Fail("io", "cannot read " + path);
    return data;
  }
  return spec;
}

std::string Segment(const std::string& text) { return client::PercentEncode(text); }

void AddJsonFlag(CLI::App* command, bool& json) {
  command->add_flag("--json", json, "Print the raw API JSON");
}

}  // namespace milf::cli
