#pragma once
// The plain-socket pieces the two small HTTP responders share (metrics, ingest):
// binding an IPv4 listener on "host:port", writing all of a reply, reason phrases.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <string_view>

namespace flowlier::transport {

// Splits "host:port"; returns false when it is not of that shape.
bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port);

// Binds and listens on "host:port" (IPv4; "localhost" is 127.0.0.1; port 0 picks one).
// On success sets `fd` and the bound `port` and returns ""; else returns why.
std::string listen_ipv4(const std::string& host_port, int backlog, int& fd, std::uint16_t& port);

// Sends all of `data`, retrying on EINTR; gives up silently when the peer is gone.
void send_all(int fd, std::string_view data);

const char* http_reason_phrase(int status);

// A listening socket and the thread that accepts on it, one client at a time: each
// accepted connection is handed to `on_client`, then closed. stop() is prompt (the
// loop polls every 200 ms) and idempotent.
class AcceptLoop {
 public:
  using ClientHandler = std::function<void(int client_fd)>;
  ~AcceptLoop() { stop(); }

  // Returns "" once listening on "host:port", else why not (see listen_ipv4).
  std::string start(const std::string& host_port, int backlog, ClientHandler on_client);
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace flowlier::transport
