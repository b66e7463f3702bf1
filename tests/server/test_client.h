// Small blocking clients for the server tests: HTTP/1.1 on one kept-alive
// connection, raw bytes for malformed requests and event streams, and a
// WebSocket for nodes. Every read has a timeout so a broken server fails
// the test instead of hanging it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace milf::testing {

struct HttpResult {
  int status = 0;  // 0 when the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased
  boost::json::value Json() const;             // null when the body is not JSON
  std::string ErrorCode() const;               // error.code of an error body
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();

  // Sends on the open connection (reconnecting first if the server closed it).
  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body = "", const Headers& headers = {});
  HttpResult Get(const std::string& target, const std::string& token = "");
  HttpResult PostJson(const std::string& target, const std::string& json,
                      const std::string& token = "");
  // Writes `bytes` as they are and reads one response.
  HttpResult SendRaw(const std::string& bytes);
  // Writes `bytes`, then reads `count` responses.
  std::vector<HttpResult> SendRawMany(const std::string& bytes, int count);
  // True when the server has closed this connection.
  bool ClosedByServer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A plain socket: write bytes, read until some text shows up.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  void Write(const std::string& bytes);
  // Everything read so far, once it contains `needle`; nullopt when the
  // connection closes or 20 s pass first.
  std::optional<std::string> ReadUntil(const std::string& needle);
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  std::string received_;
};

// A node's WebSocket to /api/v1/nodes/connect.
class WsClient {
 public:
  WsClient();
  ~WsClient();
  // The HTTP status of a refused upgrade, or 101 when connected.
  int Connect(std::uint16_t port, const std::string& authorization);
  void SendText(const std::string& text);
  void SendBinary(const std::vector<std::uint8_t>& bytes);
  // The next message and whether it was text; nullopt when closed.
  std::optional<std::pair<bool, std::string>> Read();
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Bearer(const std::string& token);

}  // namespace milf::testing
