#include "cli/user_command.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "base/result.h"
#include "server/api.h"
#include "server/auth.h"
#include "store/store.h"

namespace milf::cli {
namespace {

int Failure(const std::string& message) {
  std::cerr << "milf: user: " << message << "\n";
  return 1;
}

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& data_dir, bool create) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    if (!create) return Fail("io", data_dir + " is not a MILF data directory (see --data)");
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Fail("io", data_dir + ": " + ec.message());
    ::chmod(data_dir.c_str(), 0700);
  }
  return store::OpenSqliteStore((std::filesystem::path(data_dir) / "milf.db").string());
}

std::string StripNewline(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// Reads one line from the terminal on stdin without echoing it.
Result<std::string> PromptHidden(const std::string& prompt) {
  termios saved{};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) {
    return Fail("io", "no terminal to ask for a password: use --password-stdin");
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::cerr << prompt << std::flush;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  const bool read = static_cast<bool>(std::getline(std::cin, line));
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::cerr << "\n";
  if (!read) return Fail("io", "no password given");
  return StripNewline(line);
}

Result<std::string> ReadPassword(const UserCommandOptions& options) {
  if (options.password_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) return Fail("io", "no password on stdin");
    return StripNewline(line);
  }
  auto first = PromptHidden("Password for " + options.name + ": ");
  if (!first) return first;
  auto again = PromptHidden("Repeat it: ");
  if (!again) return again;
  if (*first != *again) return Fail("invalid_argument", "the passwords differ");
  return first;
}

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTime(std::int64_t millis) {
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
  return text;
}

}  // namespace

void AddUserCommands(CLI::App& app, int& exit_status) {
  auto options = std::make_shared<UserCommandOptions>();
  CLI::App* user = app.add_subcommand("user", "Manage accounts on this server machine (admin)");
  user->require_subcommand(1);
  const auto data_option = [&options](CLI::App* command) {
    command->add_option("--data", options->data_dir, "The server's data directory")
        ->capture_default_str();
  };

  CLI::App* add = user->add_subcommand("add", "Create an account");
  add->add_option("NAME", options->name, "User name")->required();
  add->add_option("--role", options->role, "admin or developer")
      ->check(CLI::IsMember({"admin", "developer"}))
      ->capture_default_str();
  add->add_flag("--password-stdin", options->password_stdin,
                "Read the password from the first line of stdin instead of prompting");
  data_option(add);
  add->callback([options, &exit_status] { exit_status = AddUser(*options); });

  CLI::App* ls = user->add_subcommand("ls", "List accounts");
  ls->add_flag("--json", options->json, "Print JSON");
  data_option(ls);
  ls->callback([options, &exit_status] { exit_status = ListUsers(*options); });

  CLI::App* rm = user->add_subcommand("rm", "Delete an account and everything it owns");
  rm->add_option("NAME", options->name, "User name")->required();
  data_option(rm);
  rm->callback([options, &exit_status] { exit_status = RemoveUser(*options); });
}

int AddUser(const UserCommandOptions& options) {
  if (!server::IsValidUserName(options.name)) {
    return Failure("user names are 1-63 of [a-z0-9_.-], starting with [a-z0-9]");
  }
  const auto role = server::ParseRole(options.role);
  if (!role) return Failure("role must be 'admin' or 'developer'");
  auto password = ReadPassword(options);
  if (!password) return Failure(password.error().message);
  if (password->size() < 8 || password->size() > 1024) {
    return Failure("passwords have 8 to 1024 characters");
  }
  auto hash = server::HashPassword(*password);
  if (!hash) return Failure(hash.error().message);
  auto store = OpenStore(options.data_dir, true);
  if (!store) return Failure(store.error().message);
  auto created = (*store)->CreateUser(options.name, *role, *hash, NowMillis());
  if (!created) {
    if (created.error().code == "conflict") {
      return Failure("'" + options.name + "' already exists");
    }
    return Failure(created.error().message);
  }
  std::cout << "created " << server::RoleName(created->role) << " '" << created->name << "'\n";
  return 0;
}

int ListUsers(const UserCommandOptions& options) {
  auto store = OpenStore(options.data_dir, false);
  if (!store) return Failure(store.error().message);
  auto users = (*store)->ListUsers();
  if (!users) return Failure(users.error().message);
  if (options.json) {
    boost::json::array list;
    for (const store::User& user : *users) {
      list.push_back(boost::json::object{{"id", user.id},
                                         {"name", user.name},
                                         {"role", server::RoleName(user.role)},
                                         {"created_at", user.created_at}});
    }
    std::cout << boost::json::serialize(boost::json::object{{"users", std::move(list)}}) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<6} {:<24} {:<10} {}\n", "ID", "NAME", "ROLE", "CREATED");
  for (const store::User& user : *users) {
    std::cout << fmt::format("{:<6} {:<24} {:<10} {}\n", user.id, user.name,
                             server::RoleName(user.role), FormatTime(user.created_at));
  }
  return 0;
}

int RemoveUser(const UserCommandOptions& options) {
  auto store = OpenStore(options.data_dir, false);
  if (!store) return Failure(store.error().message);
  auto user = (*store)->FindUserByName(options.name);
  if (!user) {
    if (user.error().code == "not_found") return Failure("no user '" + options.name + "'");
    return Failure(user.error().message);
  }
  if (user->role == store::Role::kAdmin) {
    auto users = (*store)->ListUsers();
    if (!users) return Failure(users.error().message);
    const auto admins = std::count_if(users->begin(), users->end(), [](const store::User& each) {
      return each.role == store::Role::kAdmin;
    });
    if (admins == 1) return Failure("'" + options.name + "' is the last administrator");
  }
  if (auto deleted = (*store)->DeleteUser(user->id); !deleted) {
    return Failure(deleted.error().message);
  }
  std::cout << "deleted '" << options.name << "' and everything it owned\n";
  return 0;
}

}  // namespace milf::cli
