"""What a PDF font name and a glyph say about the text: math or prose, bold, italic, monospace;
and how a math glyph is written in LaTeX. Pure tables and functions.

TeX's fonts carry their role in their names (``CMMI10`` math italic, ``CMSY10`` symbols,
``CMEX10`` big delimiters and operators, ``CMBX10`` bold, ``NimbusRomNo9L-Medi`` bold Times).
PDF text extraction cannot give Unicode for most ``CMEX`` glyphs, so it reports their character
codes; ``CMEX_CODES`` is that font's fixed layout (TeX's OMX encoding).
"""

from __future__ import annotations

import re

_MATH_FONT = re.compile(
    r"^(?:[A-Z]{6}\+)?(?:cm(?:mi|sy|ex|mib|bsy)|lmmath|lmmi|lmsy|lmex|msam|msbm|eufm|eusm|rsfs|"
    r"stix.*math|txmi|txsy|txex|pxmi|pxsy|pxex|newtxmi|ntxmi|ntxsy|ntxex|rpxmi|rpxsy|rpxr|"
    r"mathjax|cambria\s*math|symbol|esint|wasy|dsrom|bbm|bbold|mt2|mtmi|mtsy|mtex|rmtmi|zxlmi|"
    r"libertinusmath|xitsmath|latinmodernmath|asanamath|texgyre\w*math|fira\w*math)",
    re.IGNORECASE,
)
_MATH_ITALIC = re.compile(r"(?:^|\+)(?:cmmi|lmmi|txmi|pxmi|newtxmi|ntxmi|rpxmi|mtmi|rmtmi)", re.I)
_SYMBOL = re.compile(r"(?:^|\+)(?:cmsy|lmsy|txsy|pxsy|ntxsy|mtsy|rpxsy)", re.I)
_EXTENSION = re.compile(r"(?:^|\+)(?:cmex|lmex|txex|pxex|ntxex|mtex)", re.I)
_BLACKBOARD = re.compile(r"(?:^|\+)(?:msbm|dsrom|bbm|bbold)", re.I)
_FRAKTUR = re.compile(r"(?:^|\+)eufm", re.I)
_BOLD = re.compile(r"bold|black|heavy|semibold|demi|medi(?:um)?\b|-medi|cmbx|cmb\d|cmmib|cmbsy|"
                   r"lmbx|bx\d|-b$|\.b$|,bold", re.I)  # fmt: skip
_ITALIC = re.compile(r"italic|oblique|-ital|cmti|cmsl|lmti|-it$|\bit\d", re.I)
_MONO = re.compile(r"mono|courier|cmtt|lmtt|consol|menlo|inconsolata|\btt\d|typewriter", re.I)
_UPRIGHT_MATH = re.compile(r"(?:^|\+)(?:cmr|lmr|cmbx|lmbx|cmss|lmss)\d", re.I)


def base_name(font: str) -> str:
    """Font name without the subset prefix (``ABCDEF+CMR10`` → ``CMR10``)."""
    return font.split("+", 1)[1] if re.match(r"^[A-Z]{6}\+", font) else font


def is_math_font(font: str) -> bool:
    """A font only math uses (math italic, symbols, extension, AMS, script...)."""
    return bool(_MATH_FONT.match(base_name(font)))


def is_math_italic(font: str) -> bool:
    return bool(_MATH_ITALIC.search(font))


def is_symbol_font(font: str) -> bool:
    return bool(_SYMBOL.search(font))


def is_extension_font(font: str) -> bool:
    """TeX's math extension font (big delimiters, big operators, radicals)."""
    return bool(_EXTENSION.search(font))


def is_blackboard(font: str) -> bool:
    return bool(_BLACKBOARD.search(font))


def is_fraktur(font: str) -> bool:
    return bool(_FRAKTUR.search(font))


def is_bold(font: str, flags: int = 0) -> bool:
    """Bold by the font name or the PDF's font flags (bit 4)."""
    return bool(flags & 16) or bool(_BOLD.search(base_name(font)))


def is_italic(font: str, flags: int = 0) -> bool:
    return bool(flags & 2) or bool(_ITALIC.search(base_name(font)))


def is_mono(font: str, flags: int = 0) -> bool:
    return bool(flags & 8) or bool(_MONO.search(base_name(font)))


def is_upright_tex_font(font: str) -> bool:
    """Computer/Latin Modern roman, bold or sans: upright text in math (``\\mathrm``)."""
    return bool(_UPRIGHT_MATH.search(font))


# TeX's OMX encoding (cmex10): character code → (LaTeX, role). Roles: "open"/"close" delimiters,
# "op" big operators, "radical", "piece" (parts of extensible delimiters), "accent".
_OMX: dict[int, tuple[str, str]] = {}


def _omx(codes: list[int], latex: str, role: str) -> None:
    for code in codes:
        _OMX[code] = (latex, role)


_omx([0x00, 0x10, 0x12, 0x20], "(", "open")
_omx([0x01, 0x11, 0x13, 0x21], ")", "close")
_omx([0x02, 0x68, 0x14, 0x22], "[", "open")
_omx([0x03, 0x69, 0x15, 0x23], "]", "close")
_omx([0x04, 0x6A, 0x16, 0x24], "\\lfloor", "open")
_omx([0x05, 0x6B, 0x17, 0x25], "\\rfloor", "close")
_omx([0x06, 0x6C, 0x18, 0x26], "\\lceil", "open")
_omx([0x07, 0x6D, 0x19, 0x27], "\\rceil", "close")
_omx([0x08, 0x6E, 0x1A, 0x28], "\\{", "open")
_omx([0x09, 0x6F, 0x1B, 0x29], "\\}", "close")
_omx([0x0A, 0x44, 0x1C, 0x2A], "\\langle", "open")
_omx([0x0B, 0x45, 0x1D, 0x2B], "\\rangle", "close")
_omx([0x0C], "|", "delim")
_omx([0x0D], "\\|", "delim")
_omx([0x0E, 0x2E, 0x1E, 0x2C], "/", "delim")
_omx([0x0F, 0x2F, 0x1F, 0x2D], "\\backslash", "delim")
_omx([0x30, 0x40, 0x42], "(", "piece-open")
_omx([0x31, 0x41, 0x43], ")", "piece-close")
_omx([0x32, 0x34, 0x36], "[", "piece-open")
_omx([0x33, 0x35, 0x37], "]", "piece-close")
_omx([0x38, 0x3A, 0x3C, 0x3E], "\\{", "piece-open")
_omx([0x39, 0x3B, 0x3D], "\\}", "piece-close")
_omx([0x3F, 0x77, 0x78, 0x79, 0x7E, 0x7F], "|", "piece")
_omx([0x46, 0x47], "\\bigsqcup", "op")
_omx([0x48, 0x49], "\\oint", "op")
_omx([0x4A, 0x4B], "\\bigodot", "op")
_omx([0x4C, 0x4D], "\\bigoplus", "op")
_omx([0x4E, 0x4F], "\\bigotimes", "op")
_omx([0x50, 0x58], "\\sum", "op")
_omx([0x51, 0x59], "\\prod", "op")
_omx([0x52, 0x5A], "\\int", "op")
_omx([0x53, 0x5B], "\\bigcup", "op")
_omx([0x54, 0x5C], "\\bigcap", "op")
_omx([0x55, 0x5D], "\\biguplus", "op")
_omx([0x56, 0x5E], "\\bigwedge", "op")
_omx([0x57, 0x5F], "\\bigvee", "op")
_omx([0x60, 0x61], "\\coprod", "op")
_omx([0x62, 0x63, 0x64], "\\widehat", "accent")
_omx([0x65, 0x66, 0x67], "\\widetilde", "accent")
_omx([0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76], "\\sqrt", "radical")
_omx([0x7A, 0x7B, 0x7C, 0x7D], "", "piece")

CMEX_CODES = _OMX
"""Character code of TeX's math extension font → (LaTeX, role)."""

# Unicode → LaTeX for math glyphs (letters and digits stay themselves).
SYMBOLS: dict[str, str] = {
    # Greek
    "α": "\\alpha", "β": "\\beta", "γ": "\\gamma", "δ": "\\delta", "ϵ": "\\epsilon",
    "ε": "\\varepsilon", "ζ": "\\zeta", "η": "\\eta", "θ": "\\theta", "ϑ": "\\vartheta",
    "ι": "\\iota", "κ": "\\kappa", "λ": "\\lambda", "μ": "\\mu", "ν": "\\nu", "ξ": "\\xi",
    "π": "\\pi", "ϖ": "\\varpi", "ρ": "\\rho", "ϱ": "\\varrho", "σ": "\\sigma", "ς": "\\varsigma",
    "τ": "\\tau", "υ": "\\upsilon", "φ": "\\phi", "ϕ": "\\phi", "χ": "\\chi", "ψ": "\\psi",
    "ω": "\\omega", "Γ": "\\Gamma", "Δ": "\\Delta", "Θ": "\\Theta", "Λ": "\\Lambda", "Ξ": "\\Xi",
    "Π": "\\Pi", "Σ": "\\Sigma", "Υ": "\\Upsilon", "Φ": "\\Phi", "Ψ": "\\Psi", "Ω": "\\Omega",
    "µ": "\\mu",
    # binary operators and relations
    "−": "-", "–": "-", "∗": "*", "·": "\\cdot", "⋅": "\\cdot", "×": "\\times", "÷": "\\div",
    "±": "\\pm", "∓": "\\mp", "∘": "\\circ", "◦": "\\circ", "•": "\\bullet", "⊕": "\\oplus",
    "⊗": "\\otimes", "⊙": "\\odot", "∩": "\\cap", "∪": "\\cup", "∧": "\\wedge", "∨": "\\vee",
    "\\": "\\setminus", "∖": "\\setminus", "≤": "\\leq", "≥": "\\geq", "≠": "\\neq",
    "≈": "\\approx", "≡": "\\equiv", "∼": "\\sim", "≃": "\\simeq", "≅": "\\cong",
    "∝": "\\propto", "≪": "\\ll", "≫": "\\gg", "∈": "\\in", "∉": "\\notin", "∋": "\\ni",
    "⊂": "\\subset", "⊃": "\\supset", "⊆": "\\subseteq", "⊇": "\\supseteq", "≺": "\\prec",
    "≻": "\\succ", "⪯": "\\preceq", "⪰": "\\succeq", "⊥": "\\perp", "∣": "|", "∥": "\\|",
    "‖": "\\|", "≜": "\\triangleq", "≔": ":=", "≍": "\\asymp", "⊢": "\\vdash", "⊨": "\\models",
    "⩽": "\\leq", "⩾": "\\geq", "≲": "\\lesssim", "≳": "\\gtrsim",
    # arrows
    "→": "\\rightarrow", "←": "\\leftarrow", "↔": "\\leftrightarrow", "⇒": "\\Rightarrow",
    "⇐": "\\Leftarrow", "⇔": "\\Leftrightarrow", "↦": "\\mapsto", "↑": "\\uparrow",
    "↓": "\\downarrow", "⟶": "\\longrightarrow", "⟵": "\\longleftarrow", "↪": "\\hookrightarrow",
    # miscellaneous
    "∞": "\\infty", "∂": "\\partial", "∇": "\\nabla", "∀": "\\forall", "∃": "\\exists",
    "∅": "\\emptyset", "¬": "\\neg", "ℓ": "\\ell", "ℏ": "\\hbar", "ℜ": "\\Re", "ℑ": "\\Im",
    "℘": "\\wp", "ℵ": "\\aleph", "⊤": "\\top", "†": "\\dagger", "‡": "\\ddagger",
    "′": "'", "″": "''", "√": "\\sqrt", "⌈": "\\lceil", "⌉": "\\rceil", "⌊": "\\lfloor",
    "⌋": "\\rfloor", "⟨": "\\langle", "⟩": "\\rangle", "〈": "\\langle", "〉": "\\rangle",
    "…": "\\dots", "⋯": "\\cdots", "⋮": "\\vdots", "⋱": "\\ddots", "∑": "\\sum", "∏": "\\prod",
    "∫": "\\int", "∮": "\\oint", "⋃": "\\bigcup", "⋂": "\\bigcap", "♯": "\\sharp", "♭": "\\flat",
    "△": "\\triangle", "□": "\\square", "⋆": "\\star", "ı": "\\imath", "ȷ": "\\jmath",
    "{": "\\{", "}": "\\}", "_": "\\_", "#": "\\#", "%": "\\%", "&": "\\&", "$": "\\$",
}  # fmt: skip

FUNCTIONS = frozenset(
    [
        "arccos",
        "arcsin",
        "arctan",
        "arg",
        "cos",
        "cosh",
        "cot",
        "coth",
        "csc",
        "deg",
        "det",
        "dim",
        "exp",
        "gcd",
        "hom",
        "inf",
        "ker",
        "lg",
        "lim",
        "liminf",
        "limsup",
        "ln",
        "log",
        "max",
        "min",
        "Pr",
        "sec",
        "sin",
        "sinh",
        "sup",
        "tan",
        "tanh",
        "argmax",
        "argmin",
    ]
)
"""Operator names LaTeX sets upright with a command of their own (``\\log``, ``\\max``)."""
