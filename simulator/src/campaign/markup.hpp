// Text from anywhere (a transcript may hold any bytes) made safe inside XML
// or HTML, as the campaign's JUnit and HTML reports write it.
#pragma once

#include <string>
#include <string_view>

namespace vmodem::sim::campaign {

// `bytes` as character data or an attribute value (double-quoted) of XML
// 1.0 and HTML: bytes that are not UTF-8 become `\xHH` (json_text.hpp), as
// do the characters XML 1.0 cannot carry even escaped (controls but TAB and
// LF, DEL, U+FFFE, U+FFFF); & < > " ' become entities. A LF stays a LF
// (an attribute: &#10;, which an XML parser keeps as a line end).
std::string markup_text(std::string_view bytes, bool attribute = false);

}  // namespace vmodem::sim::campaign
