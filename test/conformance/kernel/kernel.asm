; The conformance test kernel: booted by qemu-system-i386 -kernel (multiboot),
; it reads a batch of paging test cases from its multiboot module, runs each
; one (tables, CR4/CR3/CR0, accesses at CPL 0 and 3, edits, INVLPG, CR3
; reloads) and writes the outcomes to the debugcon port 0xE9 as little-endian
; 32-bit words. The batch format is documented in ../case.ts (encodeBatch).
;
; Memory: the kernel lives in the first 4 MiB (PDE 0, 4 KiB pages, supervisor
; except the .user pages) and maps 4-8 MiB (PDE 1, the cases' table area) so
; it can edit and report entries while a case's tables are active.

bits 32

extern user_start, user_end

MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ 0x00000003          ; page-aligned modules, memory info
MB_BOOT_MAGIC   equ 0x2BADB002

BATCH_MAGIC     equ 0x42434750          ; 'PGCB'
OUT_CASE        equ 0x45534143          ; 'CASE'
OUT_DONE        equ 0x454E4F44          ; 'DONE'
OUT_FATAL       equ 0x4C415446          ; 'FTAL'
OUT_CPUID       equ 0x49555043          ; 'CPUI'

OP_ACCESS       equ 1
OP_EDIT         equ 2
OP_INVLPG       equ 3
OP_RELOAD_CR3   equ 4
OP_SET_WP       equ 5
OP_LOAD_CR3     equ 6
OP_SET_CR4      equ 7

CR0_WP          equ 0x00010000
CR0_PG          equ 0x80000000
CR4_PSE         equ 0x10
CR4_PGE         equ 0x80
CR4_PAE         equ 0x20
MSR_EFER        equ 0xC0000080
EFER_NXE        equ 0x800
CASE_PAE        equ 8                   ; case flag: PAE paging (entries are written as dword pairs)
CASE_NXE        equ 16                  ; case flag: EFER.NXE

KCODE           equ 0x08
KDATA           equ 0x10
UCODE           equ 0x1B
UDATA           equ 0x23
TSS_SEL         equ 0x28

DEBUGCON        equ 0xE9
EXIT_PORT       equ 0xF4
EXIT_OK         equ 0x10                ; QEMU exits with (0x10 << 1) | 1 = 33
EXIT_FATAL      equ 0x11                ; 35
TABLE_AREA_END  equ 0x800000
FILL_MUL        equ 0x9E3779B1

section .multiboot
align 4
        dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .text
global start
start:
        cli
        mov esp, kstack_top
        cmp eax, MB_BOOT_MAGIC
        jne fatal_boot
        mov [mbinfo], ebx
        call setup_gdt
        call setup_idt
        call setup_kernel_tables
        call find_module
        call emit_cpuid
        call run_batch
        mov eax, OUT_DONE
        call emit
        mov al, EXIT_OK
        out EXIT_PORT, al
.hang:  hlt
        jmp .hang

; setup_gdt loads flat kernel and user segments and the TSS.
setup_gdt:
        mov eax, tss
        mov [gdt_tss + 2], ax
        shr eax, 16
        mov [gdt_tss + 4], al
        mov [gdt_tss + 7], ah
        mov dword [tss + 4], tss_stack_top      ; ESP0
        mov dword [tss + 8], KDATA              ; SS0
        mov word [tss + 102], 104               ; I/O map base: none
        lgdt [gdt_desc]
        jmp KCODE:.flush
.flush: mov ax, UDATA                           ; DPL-3 data for DS/ES/FS/GS at both CPLs
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ax, KDATA
        mov ss, ax
        mov ax, TSS_SEL
        ltr ax
        ret

; setup_idt installs interrupt gates for vectors 0-31 and a DPL-3 gate at 0x80.
setup_idt:
        xor ecx, ecx
.loop:  mov eax, [exc_table + ecx * 4]
        mov edx, 0x8E00
        call set_gate
        inc ecx
        cmp ecx, 32
        jb .loop
        mov ecx, 0x80
        mov eax, access_return_gate
        mov edx, 0xEE00
        call set_gate
        lidt [idt_desc]
        ret

; set_gate writes gate ecx: handler eax, type/DPL bits edx.
set_gate:
        mov ebx, eax
        and ebx, 0xFFFF
        or ebx, KCODE << 16
        mov [idt + ecx * 8], ebx
        and eax, 0xFFFF0000
        or eax, edx
        mov [idt + ecx * 8 + 4], eax
        ret

; setup_kernel_tables identity-maps 0-8 MiB with 4 KiB pages: supervisor,
; writable, except the .user pages (stubs and user stack), which are user.
setup_kernel_tables:
        xor ecx, ecx
.loop:  mov eax, ecx
        shl eax, 12
        mov edx, eax
        or edx, 0x63                            ; P RW A D
        cmp eax, user_start
        jb .sup
        cmp eax, user_end
        jae .sup
        or edx, 0x04                            ; U/S
.sup:   mov [kpt + ecx * 4], edx
        mov [kpt_pae + ecx * 8], edx
        mov dword [kpt_pae + ecx * 8 + 4], 0
        inc ecx
        cmp ecx, 2048
        jb .loop
        ret

; find_module points [cursor] at the batch and checks it lies below the table area.
find_module:
        mov ebx, [mbinfo]
        test dword [ebx], 8
        jz fatal_boot
        cmp dword [ebx + 20], 1
        jb fatal_boot
        mov ebx, [ebx + 24]
        mov eax, [ebx]
        mov [cursor], eax
        cmp dword [ebx + 4], 0x400000
        ja fatal_boot
        ret

; emit_cpuid writes 'CPUI' and CPUID.01H:EDX (the runner checks PSE-36, bit 17).
emit_cpuid:
        mov eax, OUT_CPUID
        call emit
        mov eax, 1
        cpuid
        mov eax, edx
        call emit
        ret

; next returns the next batch word in eax.
next:
        mov eax, [cursor]
        mov eax, [eax]
        add dword [cursor], 4
        ret

; emit writes eax to the debugcon port, low byte first.
emit:
        push ecx
        mov ecx, 4
.loop:  out DEBUGCON, al
        ror eax, 8
        loop .loop
        pop ecx
        ret

; run_batch checks the header and runs every case.
run_batch:
        call next
        cmp eax, BATCH_MAGIC
        jne fatal_boot
        call next
        mov [ncases], eax
        mov dword [case_index], 0
.loop:  mov eax, [case_index]
        cmp eax, [ncases]
        jae .done
        call run_case
        inc dword [case_index]
        jmp .loop
.done:  ret

; run_case sets one case up with paging off, enables paging, runs its ops and
; reports the final value of each listed entry.
run_case:
        mov eax, OUT_CASE
        call emit
        mov eax, [case_index]
        call emit
        mov eax, cr0
        and eax, ~CR0_PG
        mov cr0, eax
        call next
        mov [case_flags], eax
        call next
        mov [case_cr3], eax
        call next
        mov [case_salt], eax
        call zero_tables
        call write_entries
        call fill_frames
        call enable_paging
        call run_ops
        call report_entries
        ret

; zero_tables clears each listed 4 KiB table frame; a frame listed with bit 0
; set is a page directory and gets the kernel's PDEs.
zero_tables:
        call next
        mov ecx, eax
.loop:  jecxz .done
        call next
        mov edi, eax
        and edi, 0xFFFFF000
        push ecx
        push eax
        push edi
        mov ecx, 1024
        xor eax, eax
        rep stosd
        pop edi
        pop eax
        test eax, 1
        jz .next
        call install_kernel_pdes
.next:  pop ecx
        dec ecx
        jmp .loop
.done:  ret

; install_kernel_pdes points PDEs 0 and 1 of the directory at edi to kpt
; (under PAE: 64-bit PDEs 0-3 of the page directory at edi to kpt_pae).
install_kernel_pdes:
        test dword [case_flags], CASE_PAE
        jnz .pae
        mov eax, kpt
        or eax, 0x27                            ; P RW US A
        mov [edi], eax
        add eax, 0x1000
        mov [edi + 4], eax
        ret
.pae:   mov eax, kpt_pae
        or eax, 0x27                            ; P RW US A
        mov [edi], eax
        add eax, 0x1000
        mov [edi + 8], eax
        add eax, 0x1000
        mov [edi + 16], eax
        add eax, 0x1000
        mov [edi + 24], eax
        ret

; write_entries stores each (address, value) pair.
write_entries:
        call next
        mov ecx, eax
.loop:  jecxz .done
        call next
        mov edi, eax
        call next
        mov [edi], eax
        dec ecx
        jmp .loop
.done:  ret

; fill_frames writes the pattern into each listed frame: the dword at physical
; p is (p * FILL_MUL) xor salt, then bytes 0x800-0x80F are RET (0xC3), bytes
; 0x000-0x004 RET and bytes 0xFFD-0xFFF MOV EAX's opcode (0xB8), so that a
; `mov eax, imm32` started at 0xFFD-0xFFF runs into the next page and returns.
fill_frames:
        call next
        mov ecx, eax
.loop:  jecxz .done
        call next
        mov edi, eax
        push ecx
        mov ecx, 1024
.word:  mov eax, edi
        imul eax, eax, FILL_MUL
        xor eax, [case_salt]
        stosd
        loop .word
        sub edi, 0x800
        mov eax, 0xC3C3C3C3
        mov [edi], eax
        mov [edi + 4], eax
        mov [edi + 8], eax
        mov [edi + 12], eax
        mov [edi - 0x800], eax
        mov byte [edi - 0x800 + 4], 0xC3
        mov word [edi + 0x7FD], 0xB8B8
        mov byte [edi + 0x7FF], 0xB8
        pop ecx
        dec ecx
        jmp .loop
.done:  ret

; enable_paging loads CR4 and CR3 from the case and sets CR0.PG (and WP if asked).
enable_paging:
        xor eax, eax
        test dword [case_flags], 2
        jz .nopse
        or eax, CR4_PSE
.nopse: test dword [case_flags], 4
        jz .nopge
        or eax, CR4_PGE
.nopge: test dword [case_flags], CASE_PAE
        jz .nopae
        or eax, CR4_PAE
.nopae: mov cr4, eax
        call set_efer
        mov eax, [case_cr3]
        mov cr3, eax
        mov eax, cr0
        and eax, ~CR0_WP
        test dword [case_flags], 1
        jz .nowp
        or eax, CR0_WP
.nowp:  or eax, CR0_PG
        mov cr0, eax
        ret

; set_efer writes EFER.NXE from the case's flag (WRMSR only when NX is in CPUID: the PAE runs' -cpu has +nx).
set_efer:
        test dword [case_flags], CASE_NXE | CASE_PAE
        jz .done
        mov ecx, MSR_EFER
        xor eax, eax
        xor edx, edx
        test dword [case_flags], CASE_NXE
        jz .write
        or eax, EFER_NXE
.write: wrmsr
.done:  ret

; run_ops performs each op: [code, a, b] with code = op | size << 8 | cpl << 16 | kind << 24.
run_ops:
        call next
        mov [ops_left], eax
.loop:  cmp dword [ops_left], 0
        je .done
        dec dword [ops_left]
        call next
        mov ecx, eax
        call next
        mov esi, eax
        call next
        mov ebx, eax
        cmp cl, OP_ACCESS
        je .access
        cmp cl, OP_EDIT
        je .edit
        cmp cl, OP_INVLPG
        je .invlpg
        cmp cl, OP_RELOAD_CR3
        je .reload
        cmp cl, OP_SET_WP
        je .setwp
        cmp cl, OP_LOAD_CR3
        je .loadcr3
        cmp cl, OP_SET_CR4
        je .setcr4
        jmp fatal_boot
.access:
        mov [op_b], ebx
        mov [op_code], ecx
        call do_access
        cmp dword [res_status], 0               ; a read with b = 1 reports 0, not the value
        jne .report
        test dword [op_code], 0xFF000000
        jnz .report
        cmp dword [op_b], 0
        je .report
        mov dword [res_a], 0
.report:
        mov eax, [res_status]
        call emit
        mov eax, [res_a]
        call emit
        mov eax, [res_b]
        call emit
        jmp .loop
.edit:  mov [esi], ebx
        jmp .loop
.invlpg:
        invlpg [esi]
        jmp .loop
.reload:
        mov eax, cr3
        mov cr3, eax
        jmp .loop
.setwp: mov eax, cr0
        and eax, ~CR0_WP
        test esi, esi
        jz .wpoff
        or eax, CR0_WP
.wpoff: mov cr0, eax
        jmp .loop
.loadcr3:
        mov cr3, esi
        jmp .loop
.setcr4:
        xor eax, eax
        test esi, 1
        jz .nopse
        or eax, CR4_PSE
.nopse: test esi, 2
        jz .nopge
        or eax, CR4_PGE
.nopge: test dword [case_flags], CASE_PAE
        jz .nopae
        or eax, CR4_PAE
.nopae: mov cr4, eax
        jmp .loop
.done:  ret

; do_access runs one access (ecx = code, esi = linear, ebx = value to write)
; through a stub in the user pages, at CPL 0 (jump) or CPL 3 (IRET). The stub
; ends in INT 0x80, a #PF ends in the handler: both come back through
; access_return, which restores the stack saved here and returns.
do_access:
        mov eax, ecx
        shr eax, 24                             ; kind: 0 read, 1 write, 2 fetch
        imul eax, eax, 3
        mov edx, ecx
        shr edx, 8
        and edx, 0xFF                           ; size 1, 2 or 4
        cmp edx, 4
        jne .notfour
        mov edx, 3
.notfour:
        lea eax, [eax + edx - 1]
        mov edx, [stub_table + eax * 4]
        mov dword [res_status], 0
        mov dword [res_a], 0
        mov dword [res_b], 0
        mov [saved_esp], esp
        mov dword [in_access], 1
        test ecx, 0x00FF0000
        jnz .user
        jmp edx
.user:  push UDATA
        push user_stack_top
        push 0x002
        push UCODE
        push edx
        iret

; access_return_gate is INT 0x80 from a stub: eax holds the value read.
access_return_gate:
        mov [res_a], eax
        jmp access_return

; access_return abandons the stub's frames and returns from do_access.
access_return:
        mov dword [in_access], 0
        mov esp, [saved_esp]
        ret

; report_entries emits the current value of each listed entry address.
report_entries:
        call next
        mov ecx, eax
.loop:  jecxz .done
        call next
        mov eax, [eax]
        call emit
        dec ecx
        jmp .loop
.done:  ret

; exc_common: a #PF during an access is recorded (CR2, error code); any other
; exception is fatal. Stack: vector, error code, EIP, CS, EFLAGS.
exc_common:
        cmp dword [esp], 14
        jne fatal_exception
        cmp dword [in_access], 1
        jne fatal_exception
        mov dword [res_status], 1
        mov eax, cr2
        mov [res_a], eax
        mov eax, [esp + 4]
        mov [res_b], eax
        jmp access_return

; fatal_exception reports vector, error code, EIP, CR2 and the case, then exits.
fatal_exception:
        mov eax, OUT_FATAL
        call emit
        mov eax, [esp]
        call emit
        mov eax, [esp + 4]
        call emit
        mov eax, [esp + 8]
        call emit
        mov eax, cr2
        call emit
        mov eax, [case_index]
        call emit
        jmp exit_fatal

fatal_boot:
        mov eax, OUT_FATAL
        call emit
        mov eax, 0xFFFFFFFF
        call emit
exit_fatal:
        mov al, EXIT_FATAL
        out EXIT_PORT, al
.hang:  hlt
        jmp .hang

%macro EXC_NOERR 1
exc%1:  push 0
        push %1
        jmp exc_common
%endmacro
%macro EXC_ERR 1
exc%1:  push %1
        jmp exc_common
%endmacro

%assign v 0
%rep 32
%if v = 8 || v = 10 || v = 11 || v = 12 || v = 13 || v = 14 || v = 17
EXC_ERR v
%else
EXC_NOERR v
%endif
%assign v v + 1
%endrep

; The access stubs: user pages, so they run at CPL 0 and CPL 3 alike.
section .user progbits alloc exec write align=4096
stub_read1:
        movzx eax, byte [esi]
        int 0x80
stub_read2:
        movzx eax, word [esi]
        int 0x80
stub_read4:
        mov eax, [esi]
        int 0x80
stub_write1:
        mov [esi], bl
        xor eax, eax
        int 0x80
stub_write2:
        mov [esi], bx
        xor eax, eax
        int 0x80
stub_write4:
        mov [esi], ebx
        xor eax, eax
        int 0x80
stub_fetch:
        call esi                                ; RET (0xC3), or MOV EAX, imm32 then RET
        xor eax, eax
        int 0x80
align 4096
user_stack:
        times 4096 db 0
user_stack_top:

section .data
align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF                   ; 0x08 kernel code
        dq 0x00CF92000000FFFF                   ; 0x10 kernel data
        dq 0x00CFFA000000FFFF                   ; 0x18 user code
        dq 0x00CFF2000000FFFF                   ; 0x20 user data
gdt_tss:
        dq 0x0000890000000067                   ; 0x28 TSS (base patched)
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt
idt_desc:
        dw 256 * 8 - 1
        dd idt
stub_table:
        dd stub_read1, stub_read2, stub_read4
        dd stub_write1, stub_write2, stub_write4
        dd stub_fetch, stub_fetch, stub_fetch
exc_table:
%assign v 0
%rep 32
        dd exc %+ v
%assign v v + 1
%endrep

section .bss
alignb 4096
kpt:    resd 2048                               ; page tables for 0-8 MiB
kpt_pae: resq 2048                              ; the same under PAE (64-bit entries)
idt:    resq 256
tss:    resb 104
alignb 16
        resb 4096
tss_stack_top:
        resb 8192
kstack_top:
mbinfo:     resd 1
cursor:     resd 1
ncases:     resd 1
case_index: resd 1
case_flags: resd 1
case_cr3:   resd 1
case_salt:  resd 1
ops_left:   resd 1
saved_esp:  resd 1
in_access:  resd 1
res_status: resd 1
res_a:      resd 1
res_b:      resd 1
op_b:       resd 1
op_code:    resd 1
