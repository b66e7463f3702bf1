#include "node/enrollment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>

#include "node/config_json.h"

namespace milf::node {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kCredentialFile = "credential.json";
constexpr std::size_t kMaxFieldBytes = 1024;

std::string StringField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string() || value->get_string().size() > kMaxFieldBytes) {
    return {};
  }
  return std::string(value->get_string());
}

// The server's error message when the body is the API's error shape.
std::string ServerMessage(std::string_view body) {
  std::error_code error;
  const json::value value = json::parse(body, error);
  if (!error && value.is_object()) {
    if (const json::value* inner = value.get_object().if_contains("error");
        inner != nullptr && inner->is_object()) {
      std::string message = StringField(inner->get_object(), "message");
      if (!message.empty()) return message;
    }
  }
  return std::string(body.substr(0, 200));
}

}  // namespace

Result<std::optional<Credential>> LoadCredential(const fs::path& data_dir) {
  const fs::path path = data_dir / kCredentialFile;
  std::error_code error;
  if (!fs::exists(path, error)) return std::optional<Credential>();
  auto text = ReadConfigFile(path);
  if (!text) return Fail(std::move(text).error());
  const ConfigReader reader("invalid_credential", path.string());
  auto object = reader.ParseObject(*text);
  if (!object) return Fail(std::move(object).error());
  Credential credential{StringField(*object, "server"), StringField(*object, "node_id"),
                        StringField(*object, "secret"), StringField(*object, "aot_public_key")};
  if (credential.server.empty() || credential.node_id.empty() || credential.secret.empty()) {
    return Fail("invalid_credential", path.string() + ": needs server, node_id and secret");
  }
  return std::optional<Credential>(std::move(credential));
}

Status SaveCredential(const fs::path& data_dir, const Credential& credential) {
  const std::string text = json::serialize(json::object{
      {"server", credential.server}, {"node_id", credential.node_id}, {"secret", credential.secret},
      {"aot_public_key", credential.aot_public_key}});
  const fs::path path = data_dir / kCredentialFile;
  const fs::path partial = data_dir / (std::string(kCredentialFile) + ".partial");
  // Created 0600 from the start: the secret is never readable by others,
  // not even for the moment between creating and chmod-ing the file.
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail("io", "cannot create " + partial.string() + ": " + std::strerror(errno));
  const bool written = ::fchmod(fd, 0600) == 0 &&
                       ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  std::error_code error;
  if (written) fs::rename(partial, path, error);
  if (!written || error) {
    fs::remove(partial, error);
    return Fail("io", "cannot write " + path.string());
  }
  return {};
}

std::string AuthorizationHeader(const Credential& credential) {
  return "Node " + credential.node_id + ":" + credential.secret;
}

std::string EnrollRequestBody(const std::string& token, const std::string& name,
                              const std::string& target) {
  return json::serialize(json::object{{"token", token}, {"name", name}, {"target", target}});
}

Result<Credential> ParseEnrollResponse(int http_status, std::string_view body,
                                       const std::string& server) {
  if (http_status >= 400 && http_status < 500) {
    return Fail("enrollment_refused", "the server refused the enrollment token (" +
                                          std::to_string(http_status) + "): " + ServerMessage(body));
  }
  if (http_status != 200 && http_status != 201) {
    return Fail("unavailable", "enrollment answered " + std::to_string(http_status) + ": " +
                                   ServerMessage(body));
  }
  std::error_code error;
  const json::value value = json::parse(body, error);
  if (error || !value.is_object()) return Fail("unavailable", "enrollment answered invalid JSON");
  Credential credential{server, StringField(value.get_object(), "node_id"),
                        StringField(value.get_object(), "secret"),
                        StringField(value.get_object(), "aot_public_key")};
  if (credential.node_id.empty() || credential.secret.empty()) {
    return Fail("unavailable", "enrollment answer lacks node_id or secret");
  }
  return credential;
}

}  // namespace milf::node
