#include "core/StateIo.hpp"

#include <algorithm>
#include <istream>
#include <limits>
#include <ostream>

namespace flowlier::detectors {
namespace {

constexpr std::uint64_t kFnvPrime = 1099511628211ull;

template <class T>
void write_value(std::ostream& out, const T& value, std::uint64_t& hash) {
  const std::string_view bytes(reinterpret_cast<const char*>(&value), sizeof(T));
  hash = fnv1a64(bytes, hash);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool read_exact(std::istream& in, char* data, std::size_t size) {
  in.read(data, static_cast<std::streamsize>(size));
  return static_cast<std::size_t>(in.gcount()) == size;
}

template <class T>
bool read_value(std::istream& in, T& value, std::uint64_t& hash) {
  char raw[sizeof(T)];
  if (!read_exact(in, raw, sizeof(T))) return false;
  hash = fnv1a64(std::string_view(raw, sizeof(T)), hash);
  std::memcpy(&value, raw, sizeof(T));
  return true;
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += '?';  // keep messages printable whatever the corrupt bytes were
    }
  }
  out += '\'';
  return out;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash) noexcept {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

void StateWriter::put_string(std::string_view text) {
  put<std::uint32_t>(static_cast<std::uint32_t>(std::min<std::size_t>(text.size(), UINT32_MAX)));
  put_bytes(text.data(), std::min<std::size_t>(text.size(), UINT32_MAX));
}

bool StateReader::need(std::size_t size) {
  if (!ok()) return false;
  if (size > remaining()) {
    return fail("state payload truncated: needed " + std::to_string(size) + " bytes at offset " +
                std::to_string(offset_) + ", " + std::to_string(remaining()) + " left");
  }
  return true;
}

bool StateReader::get_string(std::string& out, std::size_t max_length) {
  std::uint32_t length = 0;
  if (!get(length)) return false;
  if (length > max_length) {
    return fail("string of " + std::to_string(length) + " bytes exceeds the limit of " +
                std::to_string(max_length));
  }
  if (!need(length)) return false;
  out.assign(bytes_.data() + offset_, length);
  offset_ += length;
  return true;
}

bool StateReader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

std::string StateReader::finish() const {
  if (!ok()) return error_;
  if (remaining() != 0) {
    return "state payload has " + std::to_string(remaining()) + " unexpected trailing bytes";
  }
  return {};
}

void save_record(std::ostream& out, std::string_view tag, std::uint32_t version,
                 std::string_view payload) {
  std::uint64_t hash = kFnvOffsetBasis;
  const auto tag_length = static_cast<std::uint16_t>(std::min(tag.size(), kMaxRecordTagLength));
  tag = tag.substr(0, tag_length);
  write_value(out, tag_length, hash);
  hash = fnv1a64(tag, hash);
  out.write(tag.data(), static_cast<std::streamsize>(tag.size()));
  write_value(out, version, hash);
  write_value(out, static_cast<std::uint64_t>(payload.size()), hash);
  hash = fnv1a64(payload, hash);
  out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
  out.write(reinterpret_cast<const char*>(&hash), sizeof hash);
}

std::string read_record(std::istream& in, RawRecord& out, std::size_t max_payload) {
  std::uint64_t hash = kFnvOffsetBasis;
  std::uint16_t tag_length = 0;
  if (!read_value(in, tag_length, hash)) return "state record truncated: no header";
  if (tag_length == 0 || tag_length > kMaxRecordTagLength) {
    return "state record has an invalid tag length " + std::to_string(tag_length) +
           " (corrupt or not a state record)";
  }
  RawRecord record;
  record.tag.resize(tag_length);
  if (!read_exact(in, record.tag.data(), tag_length)) return "state record truncated in its tag";
  hash = fnv1a64(record.tag, hash);
  std::uint64_t length = 0;
  if (!read_value(in, record.version, hash) || !read_value(in, length, hash)) {
    return "state record " + quoted(record.tag) + " truncated in its header";
  }
  if (length > max_payload) {
    return "state record " + quoted(record.tag) + " claims " + std::to_string(length) +
           " payload bytes, more than the limit of " + std::to_string(max_payload);
  }
  // Grow as bytes actually arrive, so a lying length on a short stream allocates little.
  constexpr std::size_t kChunk = 1 << 16;
  while (record.payload.size() < length) {
    const std::size_t old_size = record.payload.size();
    const std::size_t step = std::min<std::size_t>(kChunk, length - old_size);
    record.payload.resize(old_size + step);
    if (!read_exact(in, record.payload.data() + old_size, step)) {
      return "state record " + quoted(record.tag) + " truncated: payload of " +
             std::to_string(length) + " bytes announced, fewer present";
    }
  }
  hash = fnv1a64(record.payload, hash);
  std::uint64_t stored = 0;
  char raw[sizeof stored];
  if (!read_exact(in, raw, sizeof raw)) {
    return "state record " + quoted(record.tag) + " truncated: checksum missing";
  }
  std::memcpy(&stored, raw, sizeof stored);
  if (stored != hash) {
    return "state record " + quoted(record.tag) + " failed its checksum (corrupt data)";
  }
  out = std::move(record);
  return {};
}

std::string load_record(std::istream& in, std::string_view tag, std::uint32_t version,
                        std::string& payload, std::size_t max_payload) {
  RawRecord record;
  if (std::string error = read_record(in, record, max_payload); !error.empty()) return error;
  if (record.tag != tag) {
    return "state record tag mismatch: expected " + quoted(tag) + ", found " + quoted(record.tag);
  }
  if (record.version != version) {
    return "state record " + quoted(tag) + " has version " + std::to_string(record.version) +
           " but this build reads version " + std::to_string(version) +
           (record.version < version ? " (older state: no migration available)"
                                     : " (newer state written by a later build)");
  }
  payload = std::move(record.payload);
  return {};
}

}  // namespace flowlier::detectors
