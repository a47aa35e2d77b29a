import Engine

/// A snapshot in the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): counters, gauges and, per pipeline interval, the
/// latency histogram in seconds with cumulative `le` buckets, `_sum` and `_count`.
///
/// Written here rather than through swift-prometheus: the latencies are already counted in HdrHistograms on the
/// stage threads, and swift-prometheus's histograms take one observation at a time under a lock, so using them would
/// mean a lock on the hot path or replaying every count each scrape. The format is small and a test parses it.
enum MetricsText {
    static func render(_ snapshot: DashboardSnapshot) -> String {
        var out = ""
        for counter in snapshot.counters {
            Self.family(&out, counter.metric, counter.type, counter.label)
            out += "kistick_\(counter.metric) \(counter.value)\n"
        }
        let status = snapshot.status
        let orders = status.orders
        Self.family(&out, "orders_total", "counter", "Orders by what became of them.")
        for (state, count) in [
            ("sent", orders.sent), ("accepted", orders.accepted), ("filled", orders.filled),
            ("partially_filled", orders.partiallyFilled), ("cancelled", orders.cancelled),
            ("rejected", orders.rejected),
        ] {
            out += "kistick_orders_total{state=\"\(state)\"} \(count)\n"
        }
        Self.gauge(&out, "orders_open", "Orders working now.", Int64(orders.open))
        Self.family(&out, "fills_total", "counter", "Fills applied to positions.")
        out += "kistick_fills_total \(orders.fills)\n"
        Self.family(&out, "risk_rejections_total", "counter", "Orders risk refused before sending.")
        out += "kistick_risk_rejections_total \(status.riskRejections)\n"
        Self.family(&out, "pnl_krw", "gauge", "Profit and loss and costs since the start, KRW.")
        for (kind, value) in [
            ("realised", status.realisedPnL), ("unrealised", status.unrealisedPnL), ("fees", status.fees),
            ("taxes", status.taxes),
        ] {
            out += "kistick_pnl_krw{kind=\"\(kind)\"} \(value)\n"
        }
        Self.family(&out, "position_shares", "gauge", "Shares held per code.")
        for position in status.positions {
            out += "kistick_position_shares{code=\"\(Self.escaped(position.code))\"} \(position.quantity)\n"
        }
        Self.gauge(
            &out,
            "sessions_connected",
            "Market-data sessions open now, one per app key.",
            Int64(status.connectedSessions)
        )
        Self.gauge(&out, "kill_switch_armed", "1 once the kill switch is armed.", status.killSwitch ? 1 : 0)
        Self.gauge(&out, "entries_paused", "1 while entries are paused.", status.entriesPaused ? 1 : 0)
        Self.family(&out, "stage_latency_seconds", "histogram", "Pipeline interval latencies since the start.")
        for row in status.latency {
            let stage = "stage=\"\(Self.escaped(row.stage))\""
            for (bound, count) in zip(EngineStatus.LatencyLine.bucketBounds, row.buckets) {
                out += "kistick_stage_latency_seconds_bucket{\(stage),le=\"\(Self.seconds(bound))\"} \(count)\n"
            }
            out += "kistick_stage_latency_seconds_bucket{\(stage),le=\"+Inf\"} \(row.summary.count)\n"
            out += "kistick_stage_latency_seconds_sum{\(stage)} \(Self.seconds(row.sum))\n"
            out += "kistick_stage_latency_seconds_count{\(stage)} \(row.summary.count)\n"
        }
        return out
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP kistick_\(name) \(help.replacingOccurrences(of: "\\", with: "\\\\"))\n"
        out += "# TYPE kistick_\(name) \(type)\n"
    }

    private static func gauge(_ out: inout String, _ name: String, _ help: String, _ value: Int64) {
        Self.family(&out, name, "gauge", help)
        out += "kistick_\(name) \(value)\n"
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Nanoseconds as exact decimal seconds (`0.0000025`, `1.5`), never in exponent form.
    static func seconds(_ nanoseconds: Int64) -> String {
        let whole = nanoseconds / 1_000_000_000
        var fraction = String(nanoseconds % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}
