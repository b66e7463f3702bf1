// Where the CLI keeps its session: the server URL and the tokens from the
// last `milf login`, in $XDG_CONFIG_HOME/milf/credentials (else
// ~/.config/milf/credentials), a JSON file readable by its owner only.
//
// Files are replaced atomically (write a 0600 temporary, fsync, rename), so
// a reader never sees half a file. Refresh tokens rotate on every use, so
// concurrent CLI processes serialise refreshes through CredentialsLock.
//
// Errors: code "io" for file system failures, "invalid_credentials" for a
// file that is not what this module writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace milf::client {

struct Credentials {
  std::string server;                    // canonical URL, ServerUrl::ToString()
  std::string user;
  std::string access_token;
  std::int64_t access_expires_at_ms = 0;  // Unix milliseconds
  std::string refresh_token;
};

// What the process environment says about the session.
struct ClientEnvironment {
  std::optional<std::string> server;   // MILF_SERVER
  std::optional<std::string> api_key;  // MILF_API_KEY
  std::string credentials_path;

  // Reads MILF_SERVER, MILF_API_KEY, XDG_CONFIG_HOME and HOME (empty
  // variables count as unset). Fails when neither config home is known.
  static Result<ClientEnvironment> FromProcess();
};

// $xdg_config_home/milf/credentials if set (and absolute, as the XDG spec
// requires), else $home/.config/milf/credentials.
Result<std::string> CredentialsPath(const std::optional<std::string>& xdg_config_home,
                                    const std::optional<std::string>& home);

// nullopt when there is no file.
Result<std::optional<Credentials>> LoadCredentials(const std::string& path);
// Creates the directory (0700) when missing; the file gets mode 0600.
Status SaveCredentials(const std::string& path, const Credentials& credentials);
// Succeeds when there was nothing to remove.
Status RemoveCredentials(const std::string& path);

// An exclusive advisory lock (flock) on "<path>.lock", held until destroyed.
class CredentialsLock {
 public:
  static Result<CredentialsLock> Acquire(const std::string& credentials_path);
  CredentialsLock(CredentialsLock&& other) noexcept;
  CredentialsLock& operator=(CredentialsLock&&) = delete;
  ~CredentialsLock();

 private:
  explicit CredentialsLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace milf::client
