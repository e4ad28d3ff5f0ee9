#pragma once
// Binary state persistence shared by detectors, models and the engine.
//
// StateWriter/StateReader serialise plain values into a payload string (host byte
// order, little-endian on every supported target). The reader is bounds-checked: a
// short or hostile payload sets a sticky error and every later read fails; it never
// reads past the end or allocates more than the caller's limit.
//
// save_record/load_record frame one payload on a stream:
//   u16 tag length | tag bytes | u32 version | u64 payload length | payload | u64 FNV-1a 64
// where the checksum covers everything before it. load_record validates tag,
// version, length and checksum before handing the payload back.
// Not thread-safe per object; no global state.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace flowlier::detectors {

inline constexpr std::uint64_t kFnvOffsetBasis = 14695981039346656037ull;
inline constexpr std::size_t kMaxRecordTagLength = 64;
// Default upper bound on one record's payload (hostile lengths are refused before reading).
inline constexpr std::size_t kDefaultMaxRecordPayload = std::size_t{256} << 20;

// FNV-1a 64 over `bytes`, continuing from `hash` (chain calls to hash several pieces).
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash = kFnvOffsetBasis) noexcept;

class StateWriter {
 public:
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void put(const T& value) {
    put_bytes(&value, sizeof(T));
  }
  // u32 length, then the bytes.
  void put_string(std::string_view text);
  // u64 count, then the elements.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void put_vector(const std::vector<T>& values) {
    put<std::uint64_t>(values.size());
    if (!values.empty()) put_bytes(values.data(), values.size() * sizeof(T));
  }
  void put_bytes(const void* data, std::size_t size) {
    buffer_.append(static_cast<const char*>(data), size);
  }

  const std::string& bytes() const noexcept { return buffer_; }
  std::string take() noexcept { return std::move(buffer_); }

 private:
  std::string buffer_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view bytes) noexcept : bytes_(bytes) {}

  // Reads one value; false (and a sticky error) if fewer than sizeof(T) bytes remain.
  // bool is read as one byte that must be 0 or 1 (any other byte is an error, not UB).
  template <class T>
    requires std::is_trivially_copyable_v<T>
  bool get(T& out) {
    if constexpr (std::is_same_v<T, bool>) {
      std::uint8_t byte = 0;
      if (!get(byte)) return false;
      if (byte > 1) return fail("invalid boolean byte " + std::to_string(byte));
      out = byte == 1;
      return true;
    } else {
      if (!need(sizeof(T))) return false;
      std::memcpy(&out, bytes_.data() + offset_, sizeof(T));
      offset_ += sizeof(T);
      return true;
    }
  }
  // A string written by put_string, at most max_length bytes long.
  bool get_string(std::string& out, std::size_t max_length);
  // A vector written by put_vector, at most max_count elements (checked against the
  // bytes actually remaining before anything is allocated).
  template <class T>
    requires std::is_trivially_copyable_v<T>
  bool get_vector(std::vector<T>& out, std::size_t max_count) {
    std::uint64_t count = 0;
    if (!get(count)) return false;
    if (count > max_count) {
      return fail("vector of " + std::to_string(count) + " elements exceeds the limit of " +
                  std::to_string(max_count));
    }
    if (!need(count * sizeof(T))) return false;
    out.resize(count);
    if (count != 0) std::memcpy(out.data(), bytes_.data() + offset_, count * sizeof(T));
    offset_ += count * sizeof(T);
    return true;
  }

  // Records an error (the first one wins) and returns false, so validation reads
  // `if (x < 0) return reader.fail("...")`.
  bool fail(std::string message);
  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  std::size_t remaining() const noexcept { return bytes_.size() - offset_; }
  // "" when every read succeeded and the payload was consumed exactly; else why not.
  std::string finish() const;

 private:
  bool need(std::size_t size);

  std::string_view bytes_;
  std::size_t offset_ = 0;
  std::string error_;
};

// Writes one framed record. Stream errors are left in the stream's state.
void save_record(std::ostream& out, std::string_view tag, std::uint32_t version,
                 std::string_view payload);

// One framed record as read, before the caller's tag/version policy.
struct RawRecord {
  std::string tag;
  std::uint32_t version = 0;
  std::string payload;
};

// Reads one record and validates framing, length and checksum (not tag/version).
// Returns "" on success, else a message; `out` is only written on success.
std::string read_record(std::istream& in, RawRecord& out,
                        std::size_t max_payload = kDefaultMaxRecordPayload);

// Reads one record that must carry `tag` and exactly `version`; the payload goes to
// `payload` only on success. Messages name what was expected and what was found.
std::string load_record(std::istream& in, std::string_view tag, std::uint32_t version,
                        std::string& payload, std::size_t max_payload = kDefaultMaxRecordPayload);

}  // namespace flowlier::detectors
