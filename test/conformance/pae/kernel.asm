; The PAE test kernel: boots from multiboot at CPL 0 with paging off, zeroes the table area 0x400000-0x5FFFFF
; and fills the data area 0x600000-0x7FFFFF (the dword at p holds (p & ~0xFF) | 0xC3, so a fetch of a
; dword-aligned byte is a `ret`). For each case of the batch (the multiboot module) it refills the data area's
; first 64 KiB (the only bytes cases write; case.ts keeps to it), writes the case's entries
; (physical address, low and high dword), then the kernel's own PDEs: PDPTE 0 -> PD 0x401000, whose entries 0-3
; identity-map 0-8 MiB with 2 MiB pages (A and D set). It loads CR4 (PAE and the case's bits), IA32_EFER (the
; case's NXE), CR3 = 0x400000 and CR0 = PE|PG|WP, runs the ops at CPL 0, turns paging off and reports the final
; low and high dword of each case entry, then zeroes them again. Each op reports (vector, error code, CR2,
; value) to port 0xE9: vector 0
; when nothing faulted; #PF and #GP are caught and the op ends there. Any other exception reports 0xDEADDEAD,
; vector, error, EIP and exits with status 0x11; a finished batch exits with 0x10.
;
; Batch: u32 ncases; per case: u32 cr4, u32 efer, u32 nentries, nentries x (addr, lo, hi),
;        u32 nops, nops x (kind, arg, value)
;   kind 1 read32 at arg; 2 write32 of value at arg; 3 fetch: call arg; 4 MOV CR3 <- arg;
;   kind 5 store value at linear arg (an edit: 0-8 MiB is identity-mapped); 6 INVLPG arg

bits 32
PDPT equ 0x400000
PD0 equ 0x401000

section .multiboot
align 4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

section .bss
align 16
stack: resb 16384
stack_top:
mbi: resd 1
resume_esp: resd 1
fault_vec: resd 1
fault_code: resd 1
fault_cr2: resd 1
op_value: resd 1
idt: resb 256

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF   ; 0x08 code
    dq 0x00CF92000000FFFF   ; 0x10 data
gdtr:
    dw 3 * 8 - 1
    dd gdt
idtr:
    dw 32 * 8 - 1
    dd idt

section .text
global _start

%macro ISR 1
isr%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
%else
    push dword 0
%endif
    push dword %1
    jmp isr_common
%endmacro

%assign i 0
%rep 32
ISR i
%assign i i+1
%endrep

isr_table:
%assign i 0
%rep 32
    dd isr %+ i
%assign i i+1
%endrep

; put32: write eax to the debug port as 4 little-endian bytes.
put32:
    push ecx
    push edx
    mov edx, 0xE9
    mov ecx, 4
.l: out dx, al
    ror eax, 8
    loop .l
    pop edx
    pop ecx
    ret

; fill_data: the data pattern from 0x600000 up to ebx.
fill_data:
    mov edi, 0x600000
.l: mov eax, edi
    and eax, 0xFFFFFF00
    or eax, 0xC3
    stosd
    cmp edi, ebx
    jb .l
    ret

isr_common:
    mov eax, [esp]
    cmp eax, 13
    je .caught
    cmp eax, 14
    je .caught
    mov eax, 0xDEADDEAD
    call put32
    mov eax, [esp]
    call put32
    mov eax, [esp + 4]
    call put32
    mov eax, [esp + 8]
    call put32
    mov eax, 0x11
    out 0xF4, eax
    hlt
.caught:
    mov [fault_vec], eax
    mov eax, [esp + 4]
    mov [fault_code], eax
    mov eax, cr2
    mov [fault_cr2], eax
    mov esp, [resume_esp]
    jmp _start.resume

_start:
    cld
    mov esp, stack_top
    mov [mbi], ebx
    lgdt [gdtr]
    jmp 0x08:.cs
.cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    xor ecx, ecx
.gate:
    mov eax, [isr_table + ecx * 4]
    mov edx, eax
    and eax, 0xFFFF
    or eax, 0x00080000
    mov [idt + ecx * 8], eax
    and edx, 0xFFFF0000
    or edx, 0x8E00
    mov [idt + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, 32
    jb .gate
    lidt [idtr]
    mov esi, [mbi]
    mov esi, [esi + 24]     ; mods_addr
    mov esi, [esi]          ; mod_start
    lodsd
    mov ebp, eax            ; cases left
    mov edi, PDPT
    mov ecx, 0x200000 / 4
    xor eax, eax
    rep stosd
    mov ebx, 0x800000
    call fill_data
.case:
    test ebp, ebp
    jz .done
    mov ebx, 0x610000
    call fill_data
    lodsd
    mov [case_cr4], eax
    lodsd
    mov [case_efer], eax
    lodsd
    mov ebx, eax            ; entries
    mov [case_entries], esi
    mov [case_nentries], ebx
.entry:
    test ebx, ebx
    jz .kernel_pdes
    lodsd
    mov edi, eax
    lodsd
    mov [edi], eax
    lodsd
    mov [edi + 4], eax
    dec ebx
    jmp .entry
.kernel_pdes:
    mov dword [PDPT], PD0 | 1
    mov dword [PDPT + 4], 0
    mov dword [PD0], 0x000000E3
    mov dword [PD0 + 8], 0x002000E3
    mov dword [PD0 + 16], 0x004000E3
    mov dword [PD0 + 24], 0x006000E3
    mov eax, [case_cr4]
    or eax, 0x20
    mov cr4, eax
    mov ecx, 0xC0000080
    mov eax, [case_efer]
    xor edx, edx
    wrmsr
    mov eax, PDPT
    mov cr3, eax
    mov eax, 0x80010001
    mov cr0, eax
    lodsd
    mov ecx, eax            ; ops
.op:
    test ecx, ecx
    jz .ops_done
    push ecx
    xor eax, eax
    mov [fault_vec], eax
    mov [fault_code], eax
    mov [fault_cr2], eax
    mov [op_value], eax
    mov [resume_esp], esp
    lodsd
    mov edx, eax            ; kind
    lodsd
    mov edi, eax            ; arg
    lodsd                   ; eax = value
    cmp edx, 1
    je .read
    cmp edx, 2
    je .write
    cmp edx, 3
    je .fetch
    cmp edx, 4
    je .cr3
    cmp edx, 5
    je .write
    invlpg [edi]
    jmp .resume
.read:
    mov eax, [edi]
    mov [op_value], eax
    jmp .resume
.write:
    mov [edi], eax
    jmp .resume
.fetch:
    call edi
    jmp .resume
.cr3:
    mov cr3, edi
.resume:
    mov eax, [fault_vec]
    call put32
    mov eax, [fault_code]
    call put32
    mov eax, [fault_cr2]
    call put32
    mov eax, [op_value]
    call put32
    pop ecx
    dec ecx
    jmp .op
.ops_done:
    mov eax, 0x00000011
    mov cr0, eax
    xor eax, eax
    mov cr4, eax
    mov ecx, 0xC0000080
    xor edx, edx
    wrmsr
    mov edx, esi
    mov esi, [case_entries]
    mov ebx, [case_nentries]
.dump:
    test ebx, ebx
    jz .next_case
    lodsd
    mov edi, eax
    add esi, 8
    mov eax, [edi]
    call put32
    mov eax, [edi + 4]
    call put32
    mov dword [edi], 0
    mov dword [edi + 4], 0
    dec ebx
    jmp .dump
.next_case:
    mov esi, edx
    dec ebp
    jmp .case
.done:
    mov eax, 0x10
    out 0xF4, eax
    hlt

section .data
case_cr4: dd 0
case_efer: dd 0
case_entries: dd 0
case_nentries: dd 0
