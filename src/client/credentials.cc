#include "client/credentials.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "client/json.h"

namespace milf::client {
namespace {

std::optional<std::string> NonEmptyEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

Error IoError(const std::string& what, const std::string& path) {
  return {"io", what + " " + path + ": " + std::strerror(errno)};
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(IoError("cannot write", path));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<ClientEnvironment> ClientEnvironment::FromProcess() {
  ClientEnvironment env;
  env.server = NonEmptyEnv("MILF_SERVER");
  env.api_key = NonEmptyEnv("MILF_API_KEY");
  auto path = CredentialsPath(NonEmptyEnv("XDG_CONFIG_HOME"), NonEmptyEnv("HOME"));
  if (!path) return Fail(std::move(path).error());
  env.credentials_path = std::move(*path);
  return env;
}

Result<std::string> CredentialsPath(const std::optional<std::string>& xdg_config_home,
                                    const std::optional<std::string>& home) {
  if (xdg_config_home && !xdg_config_home->empty() && xdg_config_home->front() == '/') {
    return *xdg_config_home + "/milf/credentials";
  }
  if (home && !home->empty()) return *home + "/.config/milf/credentials";
  return Fail("io", "cannot tell where to keep credentials: neither XDG_CONFIG_HOME nor HOME is set");
}

Result<std::optional<Credentials>> LoadCredentials(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<Credentials>();
    return Fail(IoError("cannot open", path));
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto json = ParseJson(text);
  if (!json || !json->is_object()) {
    return Fail("invalid_credentials", path + " is damaged; run `milf login` again");
  }
  Credentials credentials;
  credentials.server = GetString(*json, "server");
  credentials.user = GetString(*json, "user");
  credentials.access_token = GetString(*json, "access_token");
  credentials.access_expires_at_ms = GetInt(*json, "access_expires_at_ms").value_or(0);
  credentials.refresh_token = GetString(*json, "refresh_token");
  if (credentials.server.empty()) {
    return Fail("invalid_credentials", path + " names no server; run `milf login` again");
  }
  return std::optional<Credentials>(std::move(credentials));
}

Status SaveCredentials(const std::string& path, const Credentials& credentials) {
  const std::filesystem::path file(path);
  const std::filesystem::path dir = file.parent_path();
  std::error_code error;
  if (!dir.empty() && !std::filesystem::is_directory(dir, error)) {
    std::filesystem::create_directories(dir, error);
    if (error) return Fail("io", "cannot create " + dir.string() + ": " + error.message());
    ::chmod(dir.c_str(), 0700);
  }
  boost::json::object json;
  json["server"] = credentials.server;
  json["user"] = credentials.user;
  json["access_token"] = credentials.access_token;
  json["access_expires_at_ms"] = credentials.access_expires_at_ms;
  json["refresh_token"] = credentials.refresh_token;
  const std::string text = boost::json::serialize(json) + "\n";

  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(IoError("cannot create", temp));
  // An umask cannot widen 0600, but a pre-existing file could be wider.
  Status status = ::fchmod(fd, 0600) == 0 ? Status() : Status(Fail(IoError("cannot chmod", temp)));
  if (status) status = WriteAll(fd, text, temp);
  if (status && ::fsync(fd) != 0) status = Fail(IoError("cannot sync", temp));
  ::close(fd);
  if (status && ::rename(temp.c_str(), path.c_str()) != 0) status = Fail(IoError("cannot replace", path));
  if (!status) ::unlink(temp.c_str());
  return status;
}

Status RemoveCredentials(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Fail(IoError("cannot remove", path));
  return {};
}

Result<CredentialsLock> CredentialsLock::Acquire(const std::string& credentials_path) {
  const std::string path = credentials_path + ".lock";
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(IoError("cannot open", path));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const Error failure = IoError("cannot lock", path);
      ::close(fd);
      return Fail(failure);
    }
  }
  return CredentialsLock(fd);
}

CredentialsLock::CredentialsLock(CredentialsLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

CredentialsLock::~CredentialsLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace milf::client
