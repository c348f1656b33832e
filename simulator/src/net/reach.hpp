// Where the module's simulated packet network reaches: by default only this
// machine (127.0.0.0/8 and ::1), so a test never sends a byte off the host;
// more only when the user names it. Names resolve through a hosts map
// ("localhost" is always there), never through the host's resolver unless
// asked.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace vmodem::sim::net {

class Reach {
 public:
  Reach();  // loopback only; "localhost" → 127.0.0.1

  // Also allow `network` ("10.0.0.0/8", "2001:db8::/32", or one address).
  // False (nothing changed) when it does not parse.
  bool allow(const std::string& network);
  // `name` resolves to `address`.
  void add_host(const std::string& name, const boost::asio::ip::address& address);

  bool allows(const boost::asio::ip::address& address) const;
  // An IP literal as is, else the hosts map (names are case-insensitive);
  // nullopt when unknown.
  std::optional<boost::asio::ip::address> resolve(const std::string& host) const;
  // "127.0.0.0/8, ::1/128, ..." for messages.
  std::string describe() const;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
  std::map<std::string, boost::asio::ip::address> hosts_;  // lower-case names
};

}  // namespace vmodem::sim::net
