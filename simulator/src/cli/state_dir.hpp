// Where `vmodem run` keeps a module's state, shared by `run` and `ctl` so the
// client finds the socket the daemon made.
#pragma once

#include <filesystem>
#include <string>

namespace vmodem::cli {

// $XDG_STATE_HOME/vmodem/<profile>, else ~/.local/state/vmodem/<profile>,
// else <tmp>/vmodem/<profile>.
std::filesystem::path default_state_dir(const std::string& profile);

// The control socket's name inside a state directory.
inline constexpr const char* kControlSocketName = "control.sock";

}  // namespace vmodem::cli
