// milf login, logout, keys ls|create|revoke, token create-node.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "base/clock.h"
#include "cli/client_commands.h"
#include "cli/client_commands_common.h"
#include "cli/client_commands_output.h"
#include "client/json.h"

namespace milf::cli {
namespace {

using client::GetArray;
using client::GetInt;
using client::GetString;

struct LoginOptions {
  std::string server;
  std::string user;
  bool password_stdin = false;
  bool json = false;
};

void TrimNewline(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
}

Result<std::string> PromptLine(const std::string& prompt, bool echo) {
  std::cerr << prompt << std::flush;
  termios saved{};
  const bool hide = !echo && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (hide) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (hide) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!got) return Fail("usage", "no input for the prompt '" + prompt + "'");
  TrimNewline(line);
  return line;
}

Result<std::string> ResolveLoginServer(const LoginOptions& options, const client::ClientEnvironment& env) {
  if (!options.server.empty()) return options.server;
  if (env.server) return *env.server;
  auto stored = client::LoadCredentials(env.credentials_path);
  if (stored && *stored) return (*stored)->server;
  return Fail("usage", "which server? pass --server URL (or set MILF_SERVER)");
}

Result<int> Login(const LoginOptions& options) {
  auto env = client::ClientEnvironment::FromProcess();
  if (!env) return Fail(std::move(env).error());
  auto server_text = ResolveLoginServer(options, *env);
  if (!server_text) return Fail(std::move(server_text).error());
  auto url = client::ParseServerUrl(*server_text);
  if (!url) return Fail(std::move(url).error());

  std::string user = options.user;
  std::string password;
  if (options.password_stdin) {
    if (user.empty()) return Fail("usage", "--password-stdin needs --user NAME");
    password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    TrimNewline(password);
  } else {
    if (::isatty(STDIN_FILENO) != 1) {
      return Fail("usage", "no terminal to prompt on: pass --user NAME --password-stdin");
    }
    if (user.empty()) {
      auto typed = PromptLine("User: ", true);
      if (!typed) return Fail(std::move(typed).error());
      user = *typed;
    }
    auto typed = PromptLine("Password: ", false);
    if (!typed) return Fail(std::move(typed).error());
    password = *typed;
  }
  if (user.empty() || password.empty()) return Fail("usage", "user name and password must not be empty");

  auto http = client::HttpClient::Create(*url);
  if (!http) return Fail(std::move(http).error());
  auto credentials = client::Login(**http, user, password, SystemClock());
  if (!credentials) return Fail(std::move(credentials).error());
  if (auto saved = client::SaveCredentials(env->credentials_path, *credentials); !saved) {
    return Fail(std::move(saved).error());
  }
  if (options.json) {
    PrintJson(std::cout, boost::json::object{{"server", credentials->server}, {"user", credentials->user}});
  } else {
    std::cout << "Logged in to " << credentials->server << " as " << credentials->user << ".\n";
  }
  if (env->api_key) std::cerr << "milf: note: MILF_API_KEY is set and takes precedence over this login\n";
  return 0;
}

Result<int> Logout(bool json) {
  auto env = client::ClientEnvironment::FromProcess();
  if (!env) return Fail(std::move(env).error());
  auto stored = client::LoadCredentials(env->credentials_path);
  const std::string server = stored && *stored ? (*stored)->server : "";
  if (auto removed = client::RemoveCredentials(env->credentials_path); !removed) {
    return Fail(std::move(removed).error());
  }
  if (json) {
    PrintJson(std::cout, boost::json::object{{"server", server.empty() ? boost::json::value(nullptr) : boost::json::value(server)}});
  } else {
    std::cout << (server.empty() ? std::string("Not logged in.") : "Logged out of " + server + ".") << "\n";
  }
  return 0;
}

Result<int> ListKeys(bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("GET", "/keys");
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  Table table({{"ID", true}, {"NAME"}, {"PREFIX"}, {"CREATED"}, {"LAST USED"}});
  for (const auto& key : GetArray(*answer, "keys")) {
    table.AddRow({client::ScalarText(client::Member(key, "id")), GetString(key, "name"), GetString(key, "prefix") + "…",
                  FormatTime(GetInt(key, "created_at")), FormatTime(GetInt(key, "last_used_at"))});
  }
  if (table.empty()) {
    std::cout << "No API keys. Create one with `milf keys create NAME`.\n";
  } else {
    table.Print(std::cout);
  }
  return 0;
}

Result<int> CreateKey(const std::string& name, bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("POST", "/keys", boost::json::object{{"name", name}});
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  std::cout << GetString(*answer, "key") << "\n";
  std::cerr << "Created API key " << client::ScalarText(client::Member(*answer, "id")) << " (" << name
            << "). Keep it now: it is not shown again. Use it as MILF_API_KEY.\n";
  return 0;
}

Result<int> RevokeKey(const std::string& id, bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  auto answer = (*api)->CallJson("DELETE", "/keys/" + Segment(id));
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, boost::json::object{{"revoked", id}});
  } else {
    std::cout << "Revoked API key " << id << ".\n";
  }
  return 0;
}

Result<int> CreateNodeToken(std::optional<std::int64_t> ttl_seconds, bool json) {
  auto api = OpenSession();
  if (!api) return Fail(std::move(api).error());
  boost::json::object body;
  if (ttl_seconds) body["ttl_seconds"] = *ttl_seconds;
  auto answer = (*api)->CallJson("POST", "/tokens/node", body);
  if (!answer) return Fail(std::move(answer).error());
  if (json) {
    PrintJson(std::cout, *answer);
    return 0;
  }
  const std::string token = GetString(*answer, "token");
  std::cout << token << "\n";
  std::cerr << "Node enrollment token, valid until " << FormatTime(GetInt(*answer, "expires_at"))
            << ". Enroll a device with:\n  milf node --server " << (*api)->server().ToString()
            << " --token " << token << "\n";
  return 0;
}

}  // namespace

void AddAuthCommands(CLI::App& app, int& exit_status) {
  auto login = std::make_shared<LoginOptions>();
  CLI::App* login_cmd = app.add_subcommand("login", "Sign in to a MILF server and keep the session");
  login_cmd->add_option("--server", login->server, "Server URL, e.g. http://127.0.0.1:8080");
  login_cmd->add_option("--user", login->user, "User name (prompted for otherwise)");
  login_cmd->add_flag("--password-stdin", login->password_stdin, "Read the password from standard input");
  AddJsonFlag(login_cmd, login->json);
  SetAction(login_cmd, exit_status, [login] { return Login(*login); });

  auto logout_json = std::make_shared<bool>(false);
  CLI::App* logout_cmd = app.add_subcommand("logout", "Forget the saved session");
  AddJsonFlag(logout_cmd, *logout_json);
  SetAction(logout_cmd, exit_status, [logout_json] { return Logout(*logout_json); });

  CLI::App* keys = app.add_subcommand("keys", "Manage your API keys");
  keys->require_subcommand(1);
  auto keys_ls_json = std::make_shared<bool>(false);
  CLI::App* keys_ls = keys->add_subcommand("ls", "List your API keys");
  AddJsonFlag(keys_ls, *keys_ls_json);
  SetAction(keys_ls, exit_status, [keys_ls_json] { return ListKeys(*keys_ls_json); });

  struct NamedOptions {
    std::string name;
    bool json = false;
  };
  auto create = std::make_shared<NamedOptions>();
  CLI::App* keys_create = keys->add_subcommand("create", "Create an API key (shown once)");
  keys_create->add_option("name", create->name, "A name to recognise the key by")->required();
  AddJsonFlag(keys_create, create->json);
  SetAction(keys_create, exit_status, [create] { return CreateKey(create->name, create->json); });

  auto revoke = std::make_shared<NamedOptions>();
  CLI::App* keys_revoke = keys->add_subcommand("revoke", "Revoke an API key");
  keys_revoke->add_option("id", revoke->name, "The key's id (see `milf keys ls`)")->required();
  AddJsonFlag(keys_revoke, revoke->json);
  SetAction(keys_revoke, exit_status, [revoke] { return RevokeKey(revoke->name, revoke->json); });

  struct TokenOptions {
    std::optional<std::int64_t> ttl;
    bool json = false;
  };
  CLI::App* token = app.add_subcommand("token", "Create enrollment tokens (admin)");
  token->require_subcommand(1);
  auto token_options = std::make_shared<TokenOptions>();
  CLI::App* create_node = token->add_subcommand("create-node", "Create a token a node trades for its credential");
  create_node->add_option("--ttl", token_options->ttl, "Seconds the token stays valid")->check(CLI::PositiveNumber);
  AddJsonFlag(create_node, token_options->json);
  SetAction(create_node, exit_status,
            [token_options] { return CreateNodeToken(token_options->ttl, token_options->json); });
}

}  // namespace milf::cli
