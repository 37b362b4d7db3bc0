import os, json
from pathlib import Path

def export_report(frames):
    from docx import Document
    from PIL import Image
    try:
        import fitz  # PyMuPDF, for the PDF appendix
    except ImportError:
        fitz = None
    doc = Document()
    for name, frame in frames.items():
        doc.add_heading(name, level=2)
    doc.save('/mnt/data/report.docx')

try:
    from ace_tools_open import display_dataframe_to_user
except ImportError:
    import caas_jupyter_tools
import cv2
import yaml, bs4
from dateutil import parser as dateparser
import mysterious_internal_lib
