package org.tfport.testkit; final class Placeholder {}
