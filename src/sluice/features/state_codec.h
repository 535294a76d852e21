#pragma once
// The byte codec of checkpointed state: little-endian fixed-width integers and doubles (bit
// patterns, so a restored double is the very same double), LEB128 varints for counts and times
// (zigzag for signed values: a time delta is a byte or three, not eight), length-prefixed byte
// strings.
// StateReader never reads past its input: a short or malformed record sets failed() and yields
// zeros, so restore code checks once at the end instead of after every field.
// Not thread-safe: one writer or reader per record.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sluice/core/status.h"

namespace sluice::features {

// Fixed-width fields are copied as they sit in memory; that is little-endian only on such hosts.
static_assert(std::endian::native == std::endian::little, "checkpoint codec assumes little-endian");

// Writes at a cursor into the string's own bytes: each field is a bounds check and a store, and
// the string is grown (zero-filled once per doubling) only when the room runs out. The string's
// size includes that room until Flush (or the writer's end) trims it to what was written: call
// Flush before reading the string while the writer lives.
class StateWriter {
 public:
  explicit StateWriter(std::string* out) : out_(out), at_(out->size()), end_(at_) {}
  // Writes from offset `at` of *out, whose bytes after it are room to write over.
  StateWriter(std::string* out, size_t at) : out_(out), at_(at), end_(out->size()) {}
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;
  ~StateWriter() { Flush(); }

  void U8(uint8_t v) {
    Room(1);
    out_->data()[at_++] = static_cast<char>(v);
  }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void F64(double v) { Raw(&v, 8); }
  void F64s(const double* v, size_t n) { Raw(v, n * 8); }
  void Var(uint64_t v) { Commit(PutVar(Extend(kMaxVar), v)); }
  void SVar(int64_t v) { Commit(PutSVar(Extend(kMaxVar), v)); }
  void Bytes(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(Extend(n), p, n);
    at_ += n;
  }
  // Bytes written so far (the string's size after Flush), and the byte at an offset of them (to
  // fill in a length once what it counts is written).
  size_t size() const { return at_; }
  char* at(size_t offset) { return out_->data() + offset; }
  void Flush() {
    out_->resize(at_);
    end_ = at_;
  }

  // Hot loops (a window's stored events): Extend makes room for up to n bytes and returns where
  // they start; the loop writes through the pointer (PutVar, PutSVar, memcpy) and Commit(end)
  // keeps what it wrote. The bytes are the same as Var/SVar/Raw would write.
  char* Extend(size_t n) {
    Room(n);
    return out_->data() + at_;
  }
  void Commit(const char* end) { at_ = static_cast<size_t>(end - out_->data()); }
  static char* PutVar(char* p, uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }
  static char* PutSVar(char* p, int64_t v) {
    return PutVar(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  static constexpr size_t kMaxVar = 10;

 private:
  void Room(size_t n) {
    if (end_ - at_ < n) Grow(n);
  }
  // The room doubles (zero-filled: std::string has no uninitialised resize), within the
  // string's capacity while that is enough: a reserved buffer is then touched only as far as it
  // is written, so a chunk of small entries does not fault in a whole chunk's buffer.
  void Grow(size_t n) {
    const size_t need = at_ + n;
    size_t want = std::max(need, std::max<size_t>(2 * out_->size(), 256));
    if (want > out_->capacity() && need <= out_->capacity()) want = out_->capacity();
    out_->resize(want);
    end_ = out_->size();
  }

  std::string* out_;
  size_t at_, end_;  // the cursor, and the end of the room (the string's size)
};

class StateReader {
 public:
  explicit StateReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  uint8_t U8() {
    uint8_t v = 0;
    Raw(&v, 1);
    return v;
  }
  uint32_t U32() {
    uint32_t v = 0;
    Raw(&v, 4);
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    Raw(&v, 8);
    return v;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  double F64() {
    double v = 0;
    Raw(&v, 8);
    return v;
  }
  void F64s(double* v, size_t n) { Raw(v, n * 8); }
  uint64_t Var() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1)) return 0;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    failed_ = true;  // more than ten bytes: not a varint
    return 0;
  }
  int64_t SVar() {
    const uint64_t u = Var();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  // A varint count of items of at least `min_bytes` each, bounded like Count.
  uint64_t VarCount(size_t min_bytes) {
    const uint64_t n = Var();
    if (min_bytes > 0 && n > remaining() / min_bytes) failed_ = true;
    return failed_ ? 0 : n;
  }
  std::string_view Bytes() { return Take(U32()); }
  // The next n bytes as they are (empty, failed, when there are fewer).
  std::string_view Take(size_t n) {
    if (!Need(n)) return {};
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  // A count of items of at least `min_bytes` each: refused (0, failed) when the input cannot
  // hold that many, so a corrupt count never drives a huge allocation.
  uint64_t Count(size_t min_bytes) {
    const uint64_t n = U64();
    if (min_bytes > 0 && n > remaining() / min_bytes) failed_ = true;
    return failed_ ? 0 : n;
  }
  void Raw(void* dst, size_t n) {
    if (!Need(n)) {
      std::memset(dst, 0, n);
      return;
    }
    std::memcpy(dst, p_, n);
    p_ += n;
  }
  void Fail() { failed_ = true; }
  bool failed() const { return failed_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool done() const { return !failed_ && p_ == end_; }

 private:
  bool Need(size_t n) {
    if (failed_ || remaining() < n) failed_ = true;
    return !failed_;
  }
  const char* p_;
  const char* end_;
  bool failed_ = false;
};

// Where checkpoint records go: a RocksDB write batch (engine::CheckpointStore), or memory in tests.
// Keys are unique within one checkpoint (a Put or a Delete each); a sink may rely on that.
class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual core::Status Put(std::string_view key, std::string_view value) = 0;
  // As Put, handing over `value`'s buffer where the sink keeps records (no copy); *value is left
  // valid but unspecified.
  virtual core::Status PutOwned(std::string_view key, std::string* value) {
    return Put(key, *value);
  }
  // A key of an earlier checkpoint that no longer exists (an incremental checkpoint's tombstone).
  // A full checkpoint never deletes; a delta may delete a key the base never held.
  virtual core::Status Delete(std::string_view key) = 0;
  // Swaps into *buffer a string to build the next value in, when the sink has one to spare (the
  // buffer of a value written before, sized to its capacity: its memory touched already, on
  // another thread); else leaves it.
  virtual void TakeBuffer(std::string* buffer) {}
};

// Record keys: a kind byte, the key space's index, then the kind's own bytes. Grouping by kind and
// key space keeps a store's records of one kind adjacent; each delta kind sorts after the full
// kind it overrides, and a delta's records after the earlier deltas' (big-endian sequence).
//   kAdmission       [a][ks][chunk BE32]                          (Admission::SaveKeys)
//   kAdmissionDelta  [b][ks][delta seq BE64][chunk BE32]          (Admission::SaveChanges)
//   kKeys            [k][ks][shard BE32][chunk BE32]              (Shard::SaveKeysPart)
//   kKeysDelta       [l][ks][delta seq BE64][shard BE32][chunk BE32]  (Shard::SaveChangesPart)
enum class RecordKind : uint8_t {
  kAdmission = 'a',
  kAdmissionDelta = 'b',
  kKeys = 'k',
  kKeysDelta = 'l'
};
inline void AppendRecordKey(RecordKind kind, int key_space, std::string_view rest,
                            std::string* out) {
  out->push_back(static_cast<char>(kind));
  out->push_back(static_cast<char>(key_space));
  out->append(rest);
}
inline void AppendBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Key states in chunks (kKeys, kKeysDelta records): a few large values are much cheaper to write
// to a store and read back than one record per key. A chunk's value is a u32 entry count, then
// per entry: varint key length, key bytes, u32 state length, state bytes; a state length of 0
// is a tombstone (the key was evicted; deltas only). A chunk is flushed at kEntries entries or
// kBytes bytes, whichever comes first; its record key is `prefix` + chunk number (BE32).
class KeyChunkWriter {
 public:
  static constexpr uint32_t kEntries = 4096;
  static constexpr size_t kBytes = size_t{1} << 20;
  // A chunk's buffer: room for a full chunk and the entry that fills it.
  static constexpr size_t kBufferBytes = kBytes + kBytes / 16;

  // Chunks are numbered from `first`: a save in parts (Shard::SaveChangesPart) numbers each
  // part's chunks from its own kPartChunks-aligned start, so the parts sort in their order.
  static constexpr uint32_t kPartChunks = uint32_t{1} << 22;
  KeyChunkWriter(StateSink* sink, std::string prefix, uint32_t first = 0)
      : sink_(sink), prefix_(std::move(prefix)), chunk_(first), end_(first + (kPartChunks - 1)) {
    Start();
  }
  // One key's state, written by save(StateWriter*).
  template <typename SaveFn>
  core::Status Add(std::string_view key, SaveFn&& save) {
    StateWriter& w = *w_;
    w.Var(key.size());
    w.Raw(key.data(), key.size());
    const size_t at = w.size();
    w.U32(0);
    save(&w);
    const uint32_t n = static_cast<uint32_t>(w.size() - at - 4);
    std::memcpy(w.at(at), &n, 4);
    return Added();
  }
  core::Status Tombstone(std::string_view key) {
    w_->Var(key.size());
    w_->Raw(key.data(), key.size());
    w_->U32(0);
    return Added();
  }
  // Writes the last, partial chunk.
  core::Status Finish() { return entries_ > 0 ? Flush() : core::Status::Ok(); }

 private:
  core::Status Added() {
    return ++entries_ == kEntries || w_->size() >= kBytes ? Flush() : core::Status::Ok();
  }
  core::Status Flush() {
    if (chunk_ == end_) return core::Status::Internal("too many chunks in one part of a save");
    w_.reset();  // trims value_ to what was written
    std::memcpy(value_.data(), &entries_, 4);
    key_ = prefix_;
    AppendBigEndian(chunk_++, 4, &key_);
    core::Status s = sink_->PutOwned(key_, &value_);
    Start();
    return s;
  }
  // An empty chunk (its count first) with room for a full one, written over: growing it by
  // doubling would copy it over and over, and zeroing it is the sink's work (TakeBuffer) when
  // the sink has a buffer to spare.
  void Start() {
    w_.reset();
    sink_->TakeBuffer(&value_);
    if (value_.capacity() < kBufferBytes) {
      value_.clear();
      value_.reserve(kBufferBytes);
    }
    if (value_.size() < 4) value_.resize(4);
    w_.emplace(&value_, 4);
    entries_ = 0;
  }
  StateSink* sink_;
  std::string prefix_, key_, value_;
  std::optional<StateWriter> w_;  // writes value_
  uint32_t entries_ = 0, chunk_, end_;
};

// Reads a KeyChunkWriter chunk, entry by entry; never reads past it (StateReader).
class KeyChunkReader {
 public:
  explicit KeyChunkReader(std::string_view chunk) : r_(chunk) {
    n_ = r_.U32();
    if (n_ > r_.remaining() / 5) r_.Fail();  // an entry is at least 5 bytes
  }
  // Entries the chunk says it holds (0 when that cannot be).
  uint32_t size() const { return r_.failed() ? 0 : n_; }
  // The next entry (an empty state is a tombstone); false at the end or at a malformed entry.
  bool Next(std::string_view* key, std::string_view* state) {
    if (r_.failed() || read_ == n_) return false;
    *key = r_.Take(r_.VarCount(1));
    *state = r_.Take(r_.U32());
    ++read_;
    return !r_.failed();
  }
  // After Next returned false: whether the chunk was read whole and well formed.
  bool done() const { return read_ == n_ && r_.done(); }

 private:
  StateReader r_;
  uint32_t n_ = 0, read_ = 0;
};

}  // namespace sluice::features
