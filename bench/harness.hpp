// bench/harness.hpp - the benchmark harness: interleaved repetitions, a quiet-machine wait, medians,
// min-max and pair-by-pair ratios, printed as one table. No dependency beyond the standard library.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <time.h>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// CPU seconds used by the whole process (all threads) so far.
inline double process_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

/// One measurement: the main figure and an optional second one (CPU s/GB, loss %).
struct Sample {
    double value = 0;
    double aux = 0;
};

/// Waits (at most ~1.5 s) until a fixed 3 ms spin runs within 10% of the fastest spin seen: a crude but
/// portable "the CPU is ours again" signal, because this machine is shared.
class QuietWait {
public:
    void operator()() {
        const auto deadline = Clock::now() + std::chrono::milliseconds(1500);
        for (;;) {
            const double took = spin();
            if (best_ == 0 || took < best_) best_ = took;
            if (took <= best_ * 1.10 || Clock::now() > deadline) return;
        }
    }

private:
    static double spin() {
        const auto start = Clock::now();
        volatile unsigned long sink = 0;
        for (unsigned long i = 0; i < 3'000'000; ++i) sink = sink + i * 2654435761u;
        return seconds_since(start);
    }
    double best_ = 0;
};

struct Stats {
    double median = NAN, min = NAN, max = NAN;
    bool empty() const { return std::isnan(median); }
};

inline Stats stats(std::vector<double> values) {
    Stats s;
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
                 values.end());
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    s.min = values.front();
    s.max = values.back();
    return s;
}

/// A group of implementations measured together: each repetition runs all of them, in an order that
/// rotates from one repetition to the next, after a quiet-machine wait.
struct Workload {
    std::string name;
    int repetitions = 7;  // 1 for deterministic figures (sizes, instruction counts)
    std::vector<std::pair<std::string, std::function<Sample()>>> impls;
    std::map<std::string, std::vector<Sample>> results;  // filled by run()
};

/// One printed line: up to three columns (netlite, raw, asio) taken from a workload's implementations.
struct Row {
    Row(const Workload* w, std::string label_, std::string unit_, std::string netlite_, std::string raw_,
        std::string asio_, bool aux_, std::string target_, std::string extra_label_ = "",
        std::string extra_a_ = "", std::string extra_b_ = "", bool extra_difference_ = false)
        : workload(w),
          label(std::move(label_)),
          unit(std::move(unit_)),
          netlite(std::move(netlite_)),
          raw(std::move(raw_)),
          asio(std::move(asio_)),
          aux(aux_),
          target(std::move(target_)),
          extra_label(std::move(extra_label_)),
          extra_a(std::move(extra_a_)),
          extra_b(std::move(extra_b_)),
          extra_difference(extra_difference_) {}
    const Workload* workload;
    std::string label;
    std::string unit;
    std::string netlite, raw, asio;  // implementation keys, "" for none
    bool aux = false;                // print Sample::aux instead of Sample::value
    std::string target;              // what the ratio should be, for the reader
    std::string extra_label;         // an additional pair-by-pair ratio: extra_a / extra_b
    std::string extra_a, extra_b;
    bool extra_difference = false;  // print extra_a - extra_b instead of their ratio
};

inline void run(Workload& w, QuietWait& quiet, bool verbose) {
    const std::size_t n = w.impls.size();
    for (int rep = 0; rep < w.repetitions; ++rep) {
        for (std::size_t k = 0; k < n; ++k) {
            auto& [key, fn] = w.impls[(k + static_cast<std::size_t>(rep)) % n];
            quiet();
            Sample s = fn();
            w.results[key].push_back(s);
            if (verbose)
                std::fprintf(stderr, "  %-28s rep %d %-16s %14.4f %10.4f\n", w.name.c_str(), rep + 1,
                             key.c_str(), s.value, s.aux);
        }
    }
}

inline std::vector<double> column(const Row& row, const std::string& key) {
    std::vector<double> out;
    if (key.empty()) return out;
    auto it = row.workload->results.find(key);
    if (it == row.workload->results.end()) return out;
    for (const Sample& s : it->second) out.push_back(row.aux ? s.aux : s.value);
    return out;
}

/// Ratios a[i] / b[i] of the same repetition.
inline std::vector<double> pairwise(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> out;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) out.push_back(b[i] != 0 ? a[i] / b[i] : NAN);
    return out;
}

inline std::string format_figure(const Stats& s, int reps) {
    if (s.empty()) return "-";
    char text[96];
    auto fmt = [](double v, char* out, std::size_t size) {
        const double a = std::fabs(v);
        if (a >= 1e6)
            std::snprintf(out, size, "%.3gM", v / 1e6);
        else if (a >= 1e4)
            std::snprintf(out, size, "%.1fk", v / 1e3);
        else if (a >= 100)
            std::snprintf(out, size, "%.0f", v);
        else if (a >= 1)
            std::snprintf(out, size, "%.3g", v);
        else
            std::snprintf(out, size, "%.3g", v);
    };
    char m[24], lo[24], hi[24];
    fmt(s.median, m, sizeof m);
    if (reps <= 1 || s.min == s.max) {
        std::snprintf(text, sizeof text, "%s", m);
    } else {
        fmt(s.min, lo, sizeof lo);
        fmt(s.max, hi, sizeof hi);
        std::snprintf(text, sizeof text, "%s [%s-%s]", m, lo, hi);
    }
    return text;
}

inline std::string format_ratio(const Stats& s, int reps) {
    if (s.empty()) return "-";
    char text[64];
    if (reps <= 1 || s.min == s.max)
        std::snprintf(text, sizeof text, "%.3fx", s.median);
    else
        std::snprintf(text, sizeof text, "%.3fx [%.2f-%.2f]", s.median, s.min, s.max);
    return text;
}

inline void print_table(const std::vector<Row>& rows) {
    struct Line {
        std::string cells[9];
    };
    std::vector<Line> lines;
    lines.push_back({{"workload", "unit", "netlite", "raw POSIX", "Asio", "netlite/raw", "netlite/Asio",
                      "target", "note"}});
    for (const Row& row : rows) {
        const int reps = row.workload->repetitions;
        auto nl = column(row, row.netlite), raw = column(row, row.raw), asio = column(row, row.asio);
        Line line;
        line.cells[0] = row.label;
        line.cells[1] = row.unit;
        line.cells[2] = format_figure(stats(nl), reps);
        line.cells[3] = format_figure(stats(raw), reps);
        line.cells[4] = format_figure(stats(asio), reps);
        line.cells[5] = format_ratio(stats(pairwise(nl, raw)), reps);
        line.cells[6] = format_ratio(stats(pairwise(nl, asio)), reps);
        line.cells[7] = row.target;
        if (!row.extra_label.empty()) {
            auto ra = column(row, row.extra_a), rb = column(row, row.extra_b);
            if (row.extra_difference) {
                std::vector<double> diff;
                for (std::size_t i = 0; i < ra.size() && i < rb.size(); ++i) diff.push_back(ra[i] - rb[i]);
                const Stats d = stats(diff);
                char text[96];
                const int digits = std::fabs(d.median) < 10 ? 2 : 0;
                std::snprintf(text, sizeof text, "%s %+.*f [%+.*f..%+.*f]", row.extra_label.c_str(), digits,
                              d.median, digits, d.min, digits, d.max);
                line.cells[8] = text;
            } else {
                line.cells[8] = row.extra_label + " " + format_ratio(stats(pairwise(ra, rb)), reps);
            }
        }
        lines.push_back(line);
    }
    std::size_t width[9] = {};
    for (const Line& l : lines)
        for (int i = 0; i < 9; ++i) width[i] = std::max(width[i], l.cells[i].size());
    for (std::size_t li = 0; li < lines.size(); ++li) {
        std::string out = "|";
        for (int i = 0; i < 9; ++i) {
            out += " " + lines[li].cells[i] + std::string(width[i] - lines[li].cells[i].size(), ' ') + " |";
        }
        std::printf("%s\n", out.c_str());
        if (li == 0) {
            std::string sep = "|";
            for (int i = 0; i < 9; ++i) sep += std::string(width[i] + 2, '-') + "|";
            std::printf("%s\n", sep.c_str());
        }
    }
}

}  // namespace bench
