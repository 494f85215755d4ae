/* `make test-windows` only, never shipped: Wine 8.0 has no bcryptprimitives.dll, and rpds-py
 * (under jsonschema) imports ProcessPrng from it, as Rust's standard library does on Windows 10+.
 * Windows' own ProcessPrng fills the buffer from the system's random number generator and
 * always succeeds; RtlGenRandom (advapi32's SystemFunction036) is the same generator in Wine. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
