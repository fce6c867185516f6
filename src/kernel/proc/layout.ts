// The process kernel's layout: the user half's bounds, the stack limit, and
// the C structs it keeps in RAM (offsets in bytes, little-endian u32 fields).

/** The lowest user page ever mapped: the i386 ELF text base (pages below it, the null page included, never are). */
export const USER_BASE = 0x08048000;
/** The user half ends where the kernel's begins (PDE 768). */
export const USER_END = 0xc0000000;
/** How far below its top the stack may grow (Linux's default RLIMIT_STACK). */
export const STACK_MAX = 8 * 1024 * 1024;
/** Faults this far below the stack limit are reported as 'stack limit' rather than 'no region'. */
export const STACK_GUARD = 1024 * 1024;
/** The reference-count array (u32 per physical frame) is mapped here in the kernel half, after the heap. */
export const REFCOUNT_BASE = 0xe0000000;

/** struct proc: a process descriptor on the kernel heap. */
export const PROC_MAGIC = 0x434f5250; // 'PROC'
export const P_MAGIC = 0;
export const P_PID = 4;
export const P_PARENT = 8;
export const P_STATE = 12;
export const P_DIRECTORY = 16;
export const P_REGIONS = 20; // head of the region list (kernel linear address, 0 = empty)
export const P_BRK_START = 24;
export const P_BRK = 28;
export const P_STACK_TOP = 32;
export const P_EXIT_CODE = 36;
export const P_ACCESSES_LO = 40;
export const P_ACCESSES_HI = 44;
export const P_FAULTS = 48; // u32[5]: zero, file, stack, cow, protection
export const P_PAGE_INS = 68;
export const P_RESIDENT = 72;
export const P_MAX_RESIDENT = 76;
export const P_KILL_ADDR = 80;
export const P_KILL_CODE = 84;
export const P_KILL_REASON = 88;
export const P_FILE = 92; // the executable's file id
export const PROC_SIZE = 96;

/** Descriptor states. */
export const STATE_RUNNABLE = 1;
export const STATE_EXITED = 2;
export const STATE_KILLED = 3;

/** struct vma: one region, in a list sorted by start. */
export const VMA_MAGIC = 0x5f414d56; // 'VMA_'
export const V_MAGIC = 0;
export const V_NEXT = 4;
export const V_START = 8;
export const V_END = 12;
export const V_PROT = 16;
export const V_KIND = 20;
export const V_FILE_OFFSET = 24; // file offset of V_START
export const V_FILE_END = 28; // linear address where the file's bytes stop (zero after)
export const V_FILE = 32; // file id
export const VMA_SIZE = 36;

/** Region kinds in V_KIND. */
export const KIND_FILE = 1;
export const KIND_ANON = 2;
export const KIND_STACK = 3;
export const KIND_BRK = 4;

/** struct proc_globals: the process kernel's totals. */
export const G_MAGIC = 0x424f4c47; // 'GLOB'
export const G_PAGE_FAULTS = 4;
export const G_PAGE_INS = 8;
export const G_COW_COPIES = 12;
export const G_COW_TAKEOVERS = 16;
export const G_SWITCHES = 20;
export const G_ACCESSES_LO = 24;
export const G_ACCESSES_HI = 28;
export const G_FREE_BEFORE = 32;
export const GLOBALS_SIZE = 36;

/** The process table's magics (a RamTable beside the address-space registry): records [pid, proc, directory]. */
export const PTABLE_MAGIC = 0x54435250; // 'PRCT'
export const PRECORD_MAGIC = 0x52435250; // 'PRCR'
