#include "perf_integration/flame_graph.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

namespace jitscope::perf {
namespace {

// Average glyph width of Verdana relative to the font size (the figure
// flamegraph.pl uses), to decide how many characters fit in a frame.
constexpr double kFontWidthRatio = 0.59;
constexpr int kSidePad = 10;       // px left and right of the frames
constexpr int kBottomPad = 10;     // px below the root frame
constexpr int kLegendBox = 10;     // px square of each legend swatch
constexpr char kRootName[] = "all";

// The merge tree while samples are added: children keyed by (name, dso)
// so a std::map gives flamegraph.pl's alphabetical order for free.
struct BuildNode {
  std::string name;
  std::string dso;
  FrameKind kind = FrameKind::kNative;
  uint64_t count = 0;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<BuildNode>> children;
};

FlameNode Convert(const BuildNode& node) {
  FlameNode out{node.name, node.dso, node.kind, node.count, {}};
  out.children.reserve(node.children.size());
  for (const auto& [key, child] : node.children) out.children.push_back(Convert(*child));
  return out;
}

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; k++) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc >> 6) != 0x2) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  // XML 1.0 forbids C0 controls other than tab/newline/CR, and U+FFFE/FFFF.
  if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe || cp == 0xffff) return 0;
  return n;
}

// Valid UTF-8 that XML accepts, as a list of code points (each a string).
std::vector<std::string_view> CodePoints(std::string_view s) {
  static constexpr std::string_view kReplacement = "?";
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out.push_back(kReplacement);
      i++;
    } else {
      out.push_back(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void AppendEscaped(std::string_view code_point, std::string* out) {
  if (code_point.size() != 1) {
    out->append(code_point);
    return;
  }
  switch (code_point[0]) {
    case '&':
      *out += "&amp;";
      break;
    case '<':
      *out += "&lt;";
      break;
    case '>':
      *out += "&gt;";
      break;
    case '"':
      *out += "&quot;";
      break;
    case '\'':
      *out += "&apos;";
      break;
    default:
      *out += code_point[0];
  }
}

// The label drawn inside a frame `width` px wide: the name, cut with ".."
// to what fits, or nothing when not even a few letters fit.
std::string Label(std::string_view name, double width, int font_size) {
  double char_width = font_size * kFontWidthRatio;
  if (width < 3 * char_width) return "";
  size_t fits = static_cast<size_t>(width / char_width);
  std::vector<std::string_view> cps = CodePoints(name);
  bool cut = cps.size() > fits;
  if (cut) cps.resize(fits - 2);
  std::string out;
  for (std::string_view cp : cps) AppendEscaped(cp, &out);
  if (cut) out += "..";
  return out;
}

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

// A hue per kind and, within it, a shade per name (stable across runs) so
// neighbouring frames are told apart: JIT green, native warm red-orange,
// kernel blue.
std::string Colour(const std::string& name, FrameKind kind, bool root) {
  if (root) return "rgb(200,200,200)";
  uint32_t h = Fnv1a(name);
  double v1 = double(h & 0xff) / 255.0;
  double v2 = double((h >> 8) & 0xff) / 255.0;
  int r = 0, g = 0, b = 0;
  switch (kind) {
    case FrameKind::kJit:
      r = int(40 + 70 * v1);
      g = int(175 + 60 * v2);
      b = int(40 + 70 * v1);
      break;
    case FrameKind::kNative:
      r = int(215 + 40 * v1);
      g = int(70 + 110 * v2);
      b = int(40 + 40 * v1);
      break;
    case FrameKind::kKernel:
      r = int(60 + 60 * v1);
      g = int(130 + 60 * v1);
      b = int(200 + 55 * v2);
      break;
  }
  char buf[32];
  snprintf(buf, sizeof(buf), "rgb(%d,%d,%d)", r, g, b);
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

struct PlacedFrame {
  const FlameNode* node;
  int depth;
  double x;
  double width;
};

void Place(const FlameNode& node, int depth, double x, double px_per_sample, double min_width,
           std::vector<PlacedFrame>* out) {
  double width = double(node.count) * px_per_sample;
  if (width < min_width) return;  // its children are narrower still
  out->push_back({&node, depth, x, width});
  double child_x = x;
  for (const FlameNode& child : node.children) {
    Place(child, depth + 1, child_x, px_per_sample, min_width, out);
    child_x += double(child.count) * px_per_sample;
  }
}

std::string FoldedName(const Frame& frame) {
  std::string name = frame.symbol;
  std::replace(name.begin(), name.end(), ';', ':');  // ';' separates frames
  FrameKind kind = ClassifyFrame(frame);
  if (kind == FrameKind::kJit) name += "_[j]";
  if (kind == FrameKind::kKernel) name += "_[k]";
  return name;
}

}  // namespace

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::string_view cp : CodePoints(text)) AppendEscaped(cp, &out);
  return out;
}

FlameNode BuildFlameTree(const std::vector<Sample>& samples) {
  BuildNode root;
  root.name = kRootName;
  for (const Sample& sample : samples) {
    root.count++;
    BuildNode* node = &root;
    for (auto it = sample.frames.rbegin(); it != sample.frames.rend(); ++it) {
      std::pair<std::string, std::string> key{it->symbol, std::string(DsoBasename(it->dso))};
      std::unique_ptr<BuildNode>& child = node->children[key];
      if (child == nullptr) {
        child = std::make_unique<BuildNode>();
        child->name = key.first;
        child->dso = key.second;
        child->kind = ClassifyFrame(*it);
      }
      child->count++;
      node = child.get();
    }
  }
  return Convert(root);
}

std::string FoldStacks(const std::vector<Sample>& samples) {
  std::map<std::string, uint64_t> stacks;
  for (const Sample& sample : samples) {
    std::string stack;
    for (auto it = sample.frames.rbegin(); it != sample.frames.rend(); ++it) {
      if (!stack.empty()) stack += ';';
      stack += FoldedName(*it);
    }
    stacks[stack]++;
  }
  std::string out;
  for (const auto& [stack, count] : stacks) out += stack + " " + std::to_string(count) + "\n";
  return out;
}

std::string RenderFlameGraphSvg(const std::vector<Sample>& samples, const FlameGraphOptions& options) {
  FlameNode root = BuildFlameTree(samples);
  const int width = std::max(options.width, 4 * kSidePad);
  const int frame_height = std::max(options.frame_height, 4);
  const int font = std::max(options.font_size, 4);
  const double plot_width = width - 2 * kSidePad;

  std::vector<PlacedFrame> placed;
  if (root.count > 0) Place(root, 0, kSidePad, plot_width / double(root.count), options.min_frame_width, &placed);
  int max_depth = 0;
  for (const PlacedFrame& p : placed) max_depth = std::max(max_depth, p.depth);

  // Top to bottom: title, subtitle, legend, then the frames (root lowest).
  int title_y = font * 2;
  int subtitle_y = title_y + font * 3 / 2;
  int legend_y = (options.subtitle.empty() ? title_y : subtitle_y) + font;
  int frames_top = legend_y + kLegendBox + font;
  int height = frames_top + (max_depth + 1) * frame_height + kBottomPad;

  std::string svg;
  svg.reserve(4096 + placed.size() * 256);
  std::string w = std::to_string(width);
  std::string h = std::to_string(height);
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
  svg += "<svg version=\"1.1\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h +
         "\" xmlns=\"http://www.w3.org/2000/svg\">\n";
  svg += "<style type=\"text/css\">\n"
         "text { font-family: Verdana, sans-serif; font-size: " +
         std::to_string(font) +
         "px; fill: rgb(0,0,0); }\n"
         ".title { font-size: " +
         std::to_string(font * 3 / 2) +
         "px; text-anchor: middle; }\n"
         ".subtitle { text-anchor: middle; fill: rgb(90,90,90); }\n"
         ".frame:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
         "</style>\n";
  svg += "<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
         "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%\"/>"
         "</linearGradient></defs>\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"url(#background)\"/>\n";
  svg += "<text class=\"title\" x=\"" + Fixed(width / 2.0, 1) + "\" y=\"" + std::to_string(title_y) + "\">" +
         EscapeXml(options.title) + "</text>\n";
  if (!options.subtitle.empty()) {
    svg += "<text class=\"subtitle\" x=\"" + Fixed(width / 2.0, 1) + "\" y=\"" + std::to_string(subtitle_y) +
           "\">" + EscapeXml(options.subtitle) + "</text>\n";
  }
  int legend_x = kSidePad;
  for (FrameKind kind : {FrameKind::kJit, FrameKind::kNative, FrameKind::kKernel}) {
    const char* label = kind == FrameKind::kJit ? "JIT (Lua)" : kind == FrameKind::kNative ? "native" : "kernel";
    svg += "<rect x=\"" + std::to_string(legend_x) + "\" y=\"" + std::to_string(legend_y) + "\" width=\"" +
           std::to_string(kLegendBox) + "\" height=\"" + std::to_string(kLegendBox) + "\" fill=\"" +
           Colour(label, kind, /*root=*/false) + "\"/>\n";
    svg += "<text x=\"" + std::to_string(legend_x + kLegendBox + 4) + "\" y=\"" +
           std::to_string(legend_y + kLegendBox) + "\">" + label + "</text>\n";
    legend_x += kLegendBox + 4 + int(std::strlen(label) * font * kFontWidthRatio) + 16;
  }
  if (root.count == 0) {
    svg += "<text class=\"subtitle\" x=\"" + Fixed(width / 2.0, 1) + "\" y=\"" +
           std::to_string(frames_top + frame_height) + "\">no samples</text>\n";
  }

  int frames_bottom = height - kBottomPad;
  for (const PlacedFrame& p : placed) {
    const FlameNode& node = *p.node;
    bool is_root = p.depth == 0;
    double y = frames_bottom - double(p.depth + 1) * frame_height;
    std::string percent = Fixed(100.0 * double(node.count) / double(root.count), 2);
    std::string name = EscapeXml(node.name);
    svg += "<g class=\"frame\"><title>" + name + " (" + std::to_string(node.count) + " samples, " + percent + "%)";
    if (!is_root) svg += "\n" + EscapeXml(node.dso) + " [" + FrameKindName(node.kind) + "]";
    svg += "</title>";
    svg += "<rect x=\"" + Fixed(p.x, 2) + "\" y=\"" + Fixed(y, 1) + "\" width=\"" + Fixed(p.width, 2) +
           "\" height=\"" + std::to_string(frame_height - 1) + "\" rx=\"2\" ry=\"2\" fill=\"" +
           Colour(node.name, node.kind, is_root) + "\"/>";
    std::string label = Label(node.name, p.width, font);
    if (!label.empty()) {
      svg += "<text x=\"" + Fixed(p.x + 3, 2) + "\" y=\"" + Fixed(y + frame_height - 4.5, 1) + "\">" + label +
             "</text>";
    }
    svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

bool WriteFileAtomically(const std::string& path, std::string_view contents, std::string* error) {
  // The temporary file must be in the target's directory: rename(2) is only
  // atomic within one file system.
  std::string temp = path + ".tmp.XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) {
    *error = "cannot create a temporary file beside " + path + ": " + strerror(errno);
    return false;
  }
  auto fail = [&](const std::string& what) {
    int err = errno;
    close(fd);
    unlink(temp.c_str());
    *error = "cannot write " + path + ": " + what + ": " + strerror(err);
    return false;
  };
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write " + temp);
    done += size_t(n);
  }
  // mkstemp makes the file private; a flame graph is meant to be opened by
  // a browser, maybe as another user, like any file the shell creates.
  if (fchmod(fd, 0644) != 0) return fail("chmod " + temp);
  if (fsync(fd) != 0) return fail("fsync " + temp);
  if (close(fd) != 0) {
    int err = errno;
    unlink(temp.c_str());
    *error = "cannot write " + path + ": close " + temp + ": " + strerror(err);
    return false;
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(temp.c_str());
    *error = "cannot write " + path + ": rename: " + strerror(err);
    return false;
  }
  return true;
}

}  // namespace jitscope::perf
