#pragma once
// The plain-socket pieces the two small HTTP responders share (metrics, ingest):
// binding an IPv4 listener on "host:port", writing all of a reply, reason phrases.
#include <cstdint>
#include <string>
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

}  // namespace flowlier::transport
