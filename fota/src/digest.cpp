#include <openssl/evp.h>

#include <vmodem/fota/digest.hpp>

namespace vmodem::fota {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
  Context() : md(EVP_MD_CTX_new()) { EVP_DigestInit_ex(md, EVP_sha256(), nullptr); }
  Context(const Context& other) : md(EVP_MD_CTX_new()) { EVP_MD_CTX_copy_ex(md, other.md); }
  Context& operator=(const Context&) = delete;
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Context>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(const Sha256& other) : ctx_(std::make_unique<Context>(*other.ctx_)) {}
Sha256& Sha256::operator=(const Sha256& other) {
  if (this != &other) ctx_ = std::make_unique<Context>(*other.ctx_);
  return *this;
}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

Digest Sha256::peek() const {
  // Finalising consumes an EVP context, so finalise a copy.
  Context copy(*ctx_);
  Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy.md, out.data(), &len);
  return out;
}

void Sha256::reset() {
  ctx_ = std::make_unique<Context>();
}

Digest sha256(std::span<const std::uint8_t> data) {
  Sha256 h;
  h.update(data);
  return h.peek();
}

std::string to_hex(const Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (auto b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

}  // namespace vmodem::fota
