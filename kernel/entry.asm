; entry.asm: pagelab's default kernel, the seed documents' higher-half loader.
;
; GRUB (or QEMU -kernel) enters `loader` at its physical address with paging
; off, EAX = 0x2BADB002 and EBX = the multiboot information structure. The
; entry code:
;   1. reports the hand-off on the early debug console (port 0xE9): the
;      registers and the bytes of the multiboot structure and what it points to;
;   2. builds the boot page directory: PDE 0 and PDE 768 both point to one page
;      table that maps the first 4 MiB (assembled with -DBOOT_PSE: both are one
;      4 MiB page instead, and the table stays empty);
;   3. loads CR3, sets CR4.PSE (with BOOT_PSE), then CR0.PG | CR0.WP;
;   4. jumps to the higher half, clears PDE 0 and issues INVLPG 0;
;   5. reports CR0/CR3/CR4 and the boot page directory and table, and stops
;      (isa-debug-exit under QEMU, then cli/hlt): the memory manager is pagelab's
;      TypeScript, which starts from the same state.
; Debug-console lines:
;   R <eax> <ebx>               hand-off registers
;   D <addr> <len> <hex bytes>  physical memory before paging
;   C <cr0> <cr3> <cr4>         control registers after the jump
;   V <addr> <len> <hex bytes>  memory read through the MMU after the jump
bits 32

KERNEL_VIRTUAL_BASE equ 0xC0000000
KERNEL_PDE_INDEX    equ KERNEL_VIRTUAL_BASE >> 22       ; 768
MB_MAGIC            equ 0x1BADB002
MB_FLAGS            equ 0x00000003                      ; page-align modules, want memory info
MB_INFO_SIZE        equ 88                              ; up to vbe_interface_len
DEBUGCON            equ 0xE9
DEBUG_EXIT          equ 0xF4
PG_PRESENT_RW       equ 0x3
CR0_PG_WP           equ 0x80010000
CR4_PSE             equ 0x00000010
PDE_4M_PRESENT_RW   equ 0x83                            ; P | RW | PS
STACK_SIZE          equ 0x4000

%define PHYS(sym) ((sym) - KERNEL_VIRTUAL_BASE)

section .multiboot
align 4
multiboot_header:
        dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .text
global loader
loader:
        mov esp, PHYS(stack_top)
        mov [PHYS(mb_magic)], eax
        mov [PHYS(mb_info)], ebx
        call report_handoff
        call build_boot_tables
        mov eax, PHYS(boot_page_directory)
        mov cr3, eax
%ifdef BOOT_PSE
        mov eax, cr4
        or eax, CR4_PSE
        mov cr4, eax
%endif
        mov eax, cr0
        or eax, CR0_PG_WP
        mov cr0, eax
        lea eax, [higher_half]          ; an absolute address: 0xC01xxxxx
        jmp eax

higher_half:
        mov dword [boot_page_directory], 0      ; drop the identity mapping
        invlpg [0]
        mov esp, stack_top
        call report_paging
        mov dx, DEBUG_EXIT                      ; QEMU exits with status (0 << 1) | 1
        xor eax, eax
        out dx, eax
.halt:
        cli
        hlt
        jmp .halt

%ifdef BOOT_PSE
; build_boot_tables maps physical [0, 4 MiB) at 0 and at 3 GiB as one 4 MiB page.
build_boot_tables:
        mov eax, PDE_4M_PRESENT_RW
        mov [PHYS(boot_page_directory)], eax
        mov [PHYS(boot_page_directory) + KERNEL_PDE_INDEX * 4], eax
        ret
%else
; build_boot_tables maps physical [0, 4 MiB) at 0 and at 3 GiB through one page table.
build_boot_tables:
        mov edi, PHYS(boot_page_table)
        mov eax, PG_PRESENT_RW
        mov ecx, 1024
.fill:
        mov [edi], eax
        add eax, 0x1000
        add edi, 4
        loop .fill
        mov eax, PHYS(boot_page_table) + PG_PRESENT_RW
        mov [PHYS(boot_page_directory)], eax
        mov [PHYS(boot_page_directory) + KERNEL_PDE_INDEX * 4], eax
        ret
%endif

; report_handoff prints the R line and D lines for the multiboot structure,
; the command line, the module list and module strings, the memory map and
; the boot loader name (each only if its flag is set). Runs before paging.
report_handoff:
        mov al, 'R'
        call putc
        mov eax, [PHYS(mb_magic)]
        call putsp_hex
        mov eax, [PHYS(mb_info)]
        call putsp_hex
        call newline
        cmp dword [PHYS(mb_magic)], 0x2BADB002
        jne .done
        mov byte [PHYS(dump_tag)], 'D'
        mov ebx, [PHYS(mb_info)]
        mov esi, ebx
        mov ecx, MB_INFO_SIZE
        call dump
        test dword [ebx], 1 << 2                ; cmdline
        jz .no_cmdline
        mov esi, [ebx + 16]
        call dump_string
.no_cmdline:
        test dword [ebx], 1 << 3                ; modules
        jz .no_mods
        mov esi, [ebx + 24]
        mov ecx, [ebx + 20]
        shl ecx, 4
        call dump
        mov edi, [ebx + 24]
        mov ebp, [ebx + 20]
.next_mod:
        test ebp, ebp
        jz .no_mods
        mov esi, [edi + 8]
        call dump_string
        add edi, 16
        dec ebp
        jmp .next_mod
.no_mods:
        test dword [ebx], 1 << 6                ; memory map
        jz .no_mmap
        mov esi, [ebx + 48]
        mov ecx, [ebx + 44]
        call dump
.no_mmap:
        test dword [ebx], 1 << 9                ; boot loader name
        jz .done
        mov esi, [ebx + 64]
        call dump_string
.done:
        ret

; report_paging prints the C line and V lines for the boot page directory and table.
report_paging:
        mov al, 'C'
        call putc
        mov eax, cr0
        call putsp_hex
        mov eax, cr3
        call putsp_hex
        mov eax, cr4
        call putsp_hex
        call newline
        mov byte [dump_tag], 'V'
        mov esi, boot_page_directory
        mov ecx, 4096
        call dump
        mov esi, boot_page_table
        mov ecx, 4096
        call dump
        ret

; dump_string dumps the NUL-terminated string at esi, the NUL included.
dump_string:
        xor ecx, ecx
.len:
        cmp byte [esi + ecx], 0
        je .found
        inc ecx
        jmp .len
.found:
        inc ecx
        ; fall through

; dump prints "<tag> <esi> <ecx> <bytes>" for ecx bytes at esi; keeps ebx, edi, ebp.
; Position-independent: the tag is read at the address it has in either half.
dump:
        push ecx
        push esi
        call get_tag
        call putc
        mov eax, [esp]
        call putsp_hex
        mov eax, [esp + 4]
        call putsp_hex
        mov al, ' '
        call putc
        pop esi
        pop ecx
.byte:
        test ecx, ecx
        jz newline
        movzx eax, byte [esi]
        push ecx
        shl eax, 24
        mov ecx, 2
        call puthex
        pop ecx
        inc esi
        dec ecx
        jmp .byte

; get_tag loads the dump tag into al: through its physical address before
; paging, its virtual address after.
get_tag:
        mov eax, cr0
        test eax, eax
        js .paged
        mov al, [PHYS(dump_tag)]
        ret
.paged:
        mov al, [dump_tag]
        ret

; putsp_hex prints a space and eax as 8 hex digits.
putsp_hex:
        push eax
        mov al, ' '
        call putc
        pop eax
        mov ecx, 8
        ; fall through

; puthex prints the top ecx nibbles of eax, most significant first.
puthex:
        rol eax, 4
        push eax
        and eax, 0xF
        call hex_digit
        call putc
        pop eax
        loop puthex
        ret

; hex_digit turns the nibble in eax into its ASCII digit in al.
hex_digit:
        cmp al, 10
        jb .decimal
        add al, 'a' - 10
        ret
.decimal:
        add al, '0'
        ret

newline:
        mov al, 10
        ; fall through

; putc writes al to the debug console.
putc:
        push edx
        mov dx, DEBUGCON
        out dx, al
        pop edx
        ret

section .data
dump_tag:       db 'D'

section .bss
align 4096
global boot_page_directory
boot_page_directory:    resb 4096
global boot_page_table
boot_page_table:        resb 4096
mb_magic:               resd 1
mb_info:                resd 1
alignb 16
global stack_bottom
stack_bottom:           resb STACK_SIZE
global stack_top
stack_top:
