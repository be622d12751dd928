#if canImport(Glibc)
import Glibc
#endif

/// The machine's RAM. Linux overcommits: a mapping far larger than memory can succeed and
/// fault (or summon the OOM killer) only when its pages are touched, so requests larger than
/// this are refused up front with a status instead.
public enum PhysicalMemory {
    public static var bytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (total, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : total
    }

    /// "12.3 GiB": sizes in messages.
    public static func describe(_ bytes: Int) -> String {
        let gib = Double(bytes) / Double(1 << 30)
        if gib >= 1 { return "\((gib * 10).rounded() / 10) GiB" }
        return "\(bytes / (1 << 20)) MiB"
    }
}
