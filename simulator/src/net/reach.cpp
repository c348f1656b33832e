#include "net/reach.hpp"

#include <algorithm>
#include <cctype>

namespace vmodem::sim::net {

namespace ip = boost::asio::ip;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

Reach::Reach() {
  (void)allow("127.0.0.0/8");
  (void)allow("::1/128");
  hosts_["localhost"] = ip::make_address_v4("127.0.0.1");
}

bool Reach::allow(const std::string& network) {
  boost::system::error_code ec;
  const std::string text =
      network.find('/') != std::string::npos
          ? network
          : network + (network.find(':') != std::string::npos ? "/128" : "/32");
  if (text.find(':') != std::string::npos) {
    const auto v6 = ip::make_network_v6(text, ec);
    if (ec) return false;
    v6_.push_back(v6.canonical());
    return true;
  }
  const auto v4 = ip::make_network_v4(text, ec);
  if (ec) return false;
  v4_.push_back(v4.canonical());
  return true;
}

void Reach::add_host(const std::string& name, const ip::address& address) {
  hosts_[lower(name)] = address;
}

bool Reach::allows(const ip::address& address) const {
  if (address.is_v4()) {
    const ip::network_v4 one(address.to_v4(), 32);
    return std::any_of(v4_.begin(), v4_.end(),
                       [&](const ip::network_v4& n) { return one == n || one.is_subnet_of(n); });
  }
  const ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return allows(ip::make_address_v4(ip::v4_mapped, v6));
  const ip::network_v6 one(v6, 128);
  return std::any_of(v6_.begin(), v6_.end(),
                     [&](const ip::network_v6& n) { return one == n || one.is_subnet_of(n); });
}

std::optional<ip::address> Reach::resolve(const std::string& host) const {
  boost::system::error_code ec;
  const auto literal = ip::make_address(host, ec);
  if (!ec) return literal;
  const auto it = hosts_.find(lower(host));
  if (it == hosts_.end()) return std::nullopt;
  return it->second;
}

std::string Reach::describe() const {
  std::string out;
  for (const auto& n : v4_)
    out += (out.empty() ? "" : ", ") + n.to_string();
  for (const auto& n : v6_)
    out += (out.empty() ? "" : ", ") + n.to_string();
  return out;
}

}  // namespace vmodem::sim::net
