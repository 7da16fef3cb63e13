"""An upload handler that stops keeping a file once it passes UPLOAD_MAX_BYTES. The middleware refuses a request
whose Content-Length is too large before it is read; this covers a length that was absent or wrong, and a request
the route allowed that still carries a file over the limit. It goes first: past the limit it hands no more of the
file to the handlers that store it, and in its place puts a TooLargeUpload of the file's real size, which the upload's
checks (maturity.spreadsheets) turn into the person's "the file is 5.4 MB: the limit is 5 MB".

The rest of the file is read and dropped rather than the connection cut, so the person gets that page and not a
reset connection; the request cap bounds what is read."""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class TooLargeUpload(UploadedFile):
    """A file that passed the limit: its name and size, none of its content."""

    def __init__(self, name: str, size: int, content_type: str | None):
        super().__init__(file=None, name=name, content_type=content_type, size=size)


class LimitedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            self.too_large = True
        return None if self.too_large else raw_data

    def file_complete(self, file_size):
        if self.too_large:
            return TooLargeUpload(self.file_name, file_size, self.content_type)
        return None  # the next handler has the file
