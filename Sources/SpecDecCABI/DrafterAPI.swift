import CSpecDecABI
import SpecDecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a `specdec_drafter_t *` points to: a host drafter, and the plugin it came from.
final class DrafterHandle {
    let drafter: HostDrafter
    private let library: UnsafeMutableRawPointer?
    /// Set while a request uses the drafter: its callbacks (and its buffers here) serve one
    /// request at a time.
    private let inUse = Atomic<Bool>(false)

    func claim() -> Bool { inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
    func release() { inUse.store(false, ordering: .releasing) }

    init(drafter: HostDrafter, library: UnsafeMutableRawPointer?) {
        self.drafter = drafter
        self.library = library
    }

    deinit {
        drafter.vtable.destroy?(drafter.instance)
        if let library { dlclose(library) }
    }

    static func from(_ pointer: OpaquePointer) -> DrafterHandle {
        Unmanaged<DrafterHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

/// Reads a host vtable whose first field is its size, keeping only what the size
/// covers; the fields up to `required` must be present.
func readVTable<T>(_ pointer: UnsafePointer<T>, empty: T, required: Int, name: String) throws(SpecDecError) -> T {
    let size = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
    guard size >= required else {
        throw .invalidArgument("\(name).struct_size is \(size), smaller than its required members (\(required) bytes)")
    }
    var result = empty
    withUnsafeMutableBytes(of: &result) { $0.baseAddress!.copyMemory(from: pointer, byteCount: min(size, MemoryLayout<T>.size)) }
    return result
}

func makeHostDrafter(_ vtablePointer: UnsafePointer<specdec_drafter_vtable_t>, instance: UnsafeMutableRawPointer?) throws(SpecDecError) -> HostDrafter {
    let required = MemoryLayout<specdec_drafter_vtable_t>.offset(of: \.begin)!
    let vtable = try readVTable(vtablePointer, empty: specdec_drafter_vtable_t(), required: required, name: "specdec_drafter_vtable_t")
    guard vtable.abi_version >= 1, vtable.abi_version <= UInt32(SPECDEC_PLUGIN_ABI_VERSION) else {
        throw .unsupported("drafter vtable has abi_version \(vtable.abi_version); this library serves 1...\(SPECDEC_PLUGIN_ABI_VERSION)")
    }
    guard vtable.propose != nil else { throw .invalidArgument("the drafter vtable has no propose function") }
    return HostDrafter(vtable: vtable, instance: instance)
}

@_cdecl("specdec_drafter_create")
public func specdec_drafter_create(_ vtable: UnsafePointer<specdec_drafter_vtable_t>?, _ instance: UnsafeMutableRawPointer?,
                                   _ outDrafter: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let outDrafter else { return fail(.invalidArgument, "out_drafter must not be NULL") }
    outDrafter.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let vtable else { throw .invalidArgument("vtable must not be NULL") }
        let handle = DrafterHandle(drafter: try makeHostDrafter(vtable, instance: instance), library: nil)
        outDrafter.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

/// The API a plugin receives from its host.
private let hostStatusString: @convention(c) (specdec_status) -> UnsafePointer<CChar>? = { specdec_status_string($0) }
private let hostVersion: @convention(c) () -> UInt32 = { specdec_version_number() }

/// The host API table handed to plugins; static, so plugins may keep the pointer.
nonisolated(unsafe) private let hostAPI: UnsafeMutablePointer<specdec_host_api_t> = {
    let table = UnsafeMutablePointer<specdec_host_api_t>.allocate(capacity: 1)
    var host = specdec_host_api_t()
    host.struct_size = UInt32(MemoryLayout<specdec_host_api_t>.size)
    host.abi_version = UInt32(SPECDEC_ABI_VERSION)
    host.status_string = hostStatusString
    host.version_number = hostVersion
    table.initialize(to: host)
    return table
}()

@_cdecl("specdec_drafter_load_plugin")
public func specdec_drafter_load_plugin(_ path: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                                        _ outDrafter: UnsafeMutablePointer<OpaquePointer?>?) -> specdec_status {
    guard let outDrafter else { return fail(.invalidArgument, "out_drafter must not be NULL") }
    outDrafter.pointee = nil
    return guarded { () throws(SpecDecError) in
        guard let path else { throw .invalidArgument("path must not be NULL") }
        let file = String(cString: path)
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw .io("cannot load plugin \(file): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        var keepLoaded = false
        defer { if !keepLoaded { dlclose(library) } }
        guard let symbol = dlsym(library, SPECDEC_PLUGIN_ENTRY_SYMBOL) else {
            throw .format("\(file) does not export \(SPECDEC_PLUGIN_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(symbol, to: specdec_plugin_entry_fn.self)
        guard let vtable = entry(UInt32(SPECDEC_PLUGIN_ABI_VERSION), hostAPI) else {
            throw .unsupported("plugin \(file) cannot serve plugin ABI version \(SPECDEC_PLUGIN_ABI_VERSION)")
        }
        let template = try makeHostDrafter(vtable, instance: nil)
        var instance: UnsafeMutableRawPointer? = nil
        if let create = template.vtable.create {
            instance = create(config)
            if instance == nil { throw .init(.callback, "plugin \(file) could not create a drafter (create returned NULL)") }
        }
        let handle = DrafterHandle(drafter: HostDrafter(vtable: template.vtable, instance: instance), library: library)
        keepLoaded = true
        outDrafter.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("specdec_drafter_destroy")
public func specdec_drafter_destroy(_ drafter: OpaquePointer?) {
    guard let drafter else { return }
    Unmanaged<DrafterHandle>.fromOpaque(UnsafeRawPointer(drafter)).release()
}
