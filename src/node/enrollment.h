// Enrollment: how a node gets its credential. An admin hands out an
// enrollment token; the node trades it once, with
//   POST /api/v1/nodes/enroll {"token","name","target"} -> 201 {"node_id","secret"},
// and keeps the credential in its data directory (credential.json, mode
// 0600), so a restart connects with it and needs no token. Enrolling again
// with the same token and name gives the same node id and a new secret.
//
// The HTTP exchange itself is the connection's (connection.cc); this file
// holds the pure parts and the credential file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace milf::node {

struct Credential {
  std::string server;  // the normalized server URL it was issued by
  std::string node_id;
  std::string secret;
  // The server's AOT artifact signing key (64 hex digits), pinned at
  // enrollment; "" when the server signs none.
  std::string aot_public_key{};
};

// nullopt when the data directory holds no credential. Errors: "io",
// "invalid_credential" (unparsable file).
Result<std::optional<Credential>> LoadCredential(const std::filesystem::path& data_dir);
// Written atomically with mode 0600. Errors: "io".
Status SaveCredential(const std::filesystem::path& data_dir, const Credential& credential);

// The WebSocket upgrade's Authorization value: "Node <node_id>:<secret>".
std::string AuthorizationHeader(const Credential& credential);

std::string EnrollRequestBody(const std::string& token, const std::string& name,
                              const std::string& target);

// Interprets the server's answer. Errors: "enrollment_refused" for a 4xx
// (a bad or expired token: retrying cannot help), "unavailable" for
// anything else that is not a 201 with a node id and a secret.
Result<Credential> ParseEnrollResponse(int http_status, std::string_view body,
                                       const std::string& server);

}  // namespace milf::node
