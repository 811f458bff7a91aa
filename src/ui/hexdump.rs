//! Hex dump lines: `offset │ hex bytes │ ASCII`, like `hexdump -C`, sized to the pane.

/// Bytes per line that fit `width` cells: 16, 8 or 4 (4 also when nothing fits).
pub fn bytes_per_line(width: usize) -> usize {
    [16, 8]
        .into_iter()
        .find(|&n| line_width(n) <= width)
        .unwrap_or(4)
}

/// Cells one line of `per` bytes takes.
pub fn line_width(per: usize) -> usize {
    8 + 3 + hex_width(per) + 3 + per
}

fn hex_width(per: usize) -> usize {
    // "xx" per byte, one space between, one more between the halves of a 16-byte line.
    per * 3 - 1 + usize::from(per > 8)
}

/// One line: (offset, hex, ascii). The hex part is padded to full width on a short last line;
/// the ASCII part shows printable ASCII and `.` for everything else.
pub fn line(chunk: &[u8], offset: usize, per: usize) -> (String, String, String) {
    let mut hex = String::with_capacity(hex_width(per));
    for i in 0..per {
        if i > 0 {
            hex.push(' ');
            if i == 8 && per > 8 {
                hex.push(' ');
            }
        }
        match chunk.get(i) {
            Some(b) => hex.push_str(&format!("{b:02x}")),
            None => hex.push_str("  "),
        }
    }
    let ascii = chunk
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    (format!("{offset:08x}"), hex, ascii)
}

/// All lines of `bytes`, `per` bytes each.
pub fn lines(bytes: &[u8], per: usize) -> impl Iterator<Item = (String, String, String)> + '_ {
    bytes
        .chunks(per.max(1))
        .enumerate()
        .map(move |(i, c)| line(c, i * per, per))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_partial_lines() {
        let bytes: Vec<u8> = b"Hello, world!\n\x00\xff\x7fABC".to_vec();
        let v: Vec<_> = lines(&bytes, 16).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0, "00000000");
        assert_eq!(v[0].1, "48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 ff");
        assert_eq!(v[0].2, "Hello, world!...");
        assert_eq!(v[1].0, "00000010");
        assert_eq!(v[1].1.len(), v[0].1.len(), "padded");
        assert!(v[1].1.starts_with("7f 41 42 43 "));
        assert_eq!(v[1].2, ".ABC");
    }

    #[test]
    fn width_picks_bytes_per_line() {
        assert_eq!(line_width(16), 78);
        assert_eq!(bytes_per_line(78), 16);
        assert_eq!(bytes_per_line(77), 8);
        assert_eq!(bytes_per_line(line_width(8)), 8);
        assert_eq!(bytes_per_line(10), 4);
        let (o, h, a) = line(&[1, 2, 3, 4, 5, 6, 7, 8], 8, 8);
        assert_eq!(o.len() + 3 + h.len() + 3 + a.len(), line_width(8));
    }
}
