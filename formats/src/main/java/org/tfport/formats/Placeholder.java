package org.tfport.formats; final class Placeholder {}
