#pragma once
// CURVE encryption for flowlier's tcp endpoints, and the ZAP handler that admits only
// allow-listed client public keys. Without a ZAP handler a CURVE server accepts any
// client that knows the server's public key, so servers here always run one.
// Keys are Z85 text (40 characters). Secret keys are never logged or put in errors.
#include <atomic>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <zmq.hpp>

namespace flowlier::transport {

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

CurveKeyPair generate_curve_keypair();
// The public key of a Z85 secret key; nullopt when it is not one.
std::optional<std::string> curve_public_key(const std::string& secret_key);
bool is_z85_key(std::string_view text);

// Reads a key file: the first 40-character Z85 key on a line of its own ('#' comments
// and blank lines skipped). Keys files hold one key per line. Errors name the file
// and the line number, never the content.
// A file that declares the other kind in its `flowlier keygen` comment line
// ("# flowlier CURVE secret key" / "... public key") is refused, naming the file:
// a public key given as the secret would derive a "secret" from public text, and a
// secret key in an allow-list would be shared with every client.
enum class KeyKind { secret, public_key };
std::optional<std::string> read_key_file(const std::string& path, std::string& error,
                                         KeyKind expected = KeyKind::secret);
std::optional<std::set<std::string>> read_keys_file(const std::string& path, std::string& error,
                                                    KeyKind expected = KeyKind::public_key);

// Makes `socket` a CURVE server (before bind).
void make_curve_server(zmq::socket_t& socket, const std::string& secret_key);
// Makes `socket` a CURVE client of a server with `server_public_key` (before connect).
void make_curve_client(zmq::socket_t& socket, const CurveKeyPair& own, const std::string& server_public_key);

// Answers ZAP requests (RFC 27) on inproc://zeromq.zap.01 of one context: CURVE
// clients whose public key is in the allow-list get 200, everyone else 400 and is
// counted. Start it before binding any CURVE server socket of that context.
class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, std::set<std::string> allowed_public_keys);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  void stop();
  std::uint64_t admitted() const { return admitted_.load(); }
  std::uint64_t refused() const { return refused_.load(); }

 private:
  void serve();

  zmq::socket_t socket_;
  std::set<std::string> allowed_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace flowlier::transport
