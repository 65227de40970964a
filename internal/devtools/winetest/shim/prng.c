/* ProcessPrng for Wine 8.0's bcryptprimitives.dll, which lacks it. Every
 * Go 1.22+ Windows program calls it at start; this one fills the buffer
 * from RtlGenRandom (advapi32's SystemFunction036). Test bed only. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
